"""Field work: visit plans, check-ins and their verification, visit logs, reviews and coverage."""
