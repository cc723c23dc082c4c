"""ghbootstrap: connect a GitHub repository's Actions to AWS ECR, least privilege, idempotently."""

__version__ = "0.2.0"
