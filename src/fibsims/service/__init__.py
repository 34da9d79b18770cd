"""Services: what each CLI command does, independent of how its flags are parsed."""
