"""Retention (§9): rules from the policy -> plan -> set-based actions, legal holds."""
