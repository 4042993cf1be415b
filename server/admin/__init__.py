"""The admin side: audit log, cockpit metrics and exports."""
