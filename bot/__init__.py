"""crowdmentor: mentorship that scales, on Slack, Discord and a local console."""

__version__ = "0.1.0"
