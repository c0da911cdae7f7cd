"""The DPO's console and the people's portal: templates, sign-in, sessions, CSRF. No rule of
its own: every page calls the same services as the CLI and the API."""
