"""The server-rendered web pages: layout, home, language switch, and page errors."""
