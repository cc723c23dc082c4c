"""Defaults more than one layer names (the CLI's options, the documents, the records, the
commands printed for users): each written once. No imports, so the CLI reads them without
loading anything else."""

# GitHub.com's OIDC issuer (GitHub Enterprise Server and GHE.com tenants have their own).
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"

# Where the build-and-push workflow goes in the repository, unless told otherwise.
WORKFLOW_PATH = ".github/workflows/ecr-build-push.yml"
