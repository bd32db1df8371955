"""Small widgets several screens share: an on-screen keypad, a confirmation box."""
