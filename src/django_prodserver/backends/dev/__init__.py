"""Development servers (3.x): runserver and the like, as processes; ``check --deploy`` warns about them."""
