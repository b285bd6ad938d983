from tickercast.tracking.redaction import redacted, without_credentials


def test_credentials_never_leave_the_uri():
    assert redacted("https://ann:s3cret@mlflow.example:8443/") == "https://***@mlflow.example:8443/"
    assert redacted("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert redacted("sqlite:////tmp/x/mlflow.db") == "sqlite:////tmp/x/mlflow.db"


def test_messages_never_carry_a_urls_password():
    message = "API request to https://ann:s3cret@mlflow.example:5000/api failed; see sqlite:///x"
    assert without_credentials(message) == (
        "API request to https://***@mlflow.example:5000/api failed; see sqlite:///x"
    )
