"""Rights requests (§10-16): intake, identity, deadlines, decisions, replies."""
