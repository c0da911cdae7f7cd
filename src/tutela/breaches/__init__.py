"""Personal data breaches (§21, GDPR Art. 33-34): the register, its scope, its clock."""
