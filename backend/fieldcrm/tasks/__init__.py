"""Tasks: one service creates them for every domain; the work list, reminders, the calendar and its ICS feed."""
