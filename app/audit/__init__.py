"""What a shop hands to a tax auditor: one folder and one ZIP for a fiscal year."""
