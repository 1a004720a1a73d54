"""Challenges: problem statements, their lifecycle and stages, the public catalogue, questions and answers."""
