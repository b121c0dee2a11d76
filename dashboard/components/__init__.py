"""Small reusable UI pieces: the page frame, status badges, confirmation dialogs."""
