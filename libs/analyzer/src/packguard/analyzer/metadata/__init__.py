"""Package metadata checks: typosquatting and declared-versus-actual identity."""
