"""The Rasa assistant: domain, configuration, custom actions, channels and launcher.

Importing `bot` is cheap: nothing heavy loads until a submodule is used.
"""
