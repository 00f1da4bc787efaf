"""Platform facts the core relies on, each with its source.

Adapters have their own rendering limits; these are the ones that shape what the core accepts.
"""

# Discord: a message's content is at most 2,000 characters.
# Source: https://discord.com/developers/docs/resources/message#create-message
# ("content: message contents (up to 2000 characters)")
DISCORD_MESSAGE_MAX_CHARS = 2_000

# Room kept for the header, topics and state line around a question in one Discord message.
QUESTION_POST_OVERHEAD_CHARS = 200

# The longest question (text plus context) that every platform shows in one message.
QUESTION_MAX_CHARS = DISCORD_MESSAGE_MAX_CHARS - QUESTION_POST_OVERHEAD_CHARS

# Discord forum posts take at most 5 tags, and thread names at most 100 characters.
# Source: https://discord.com/developers/docs/resources/channel#start-thread-in-forum-or-media-channel
DISCORD_TAGS_PER_POST = 5
DISCORD_THREAD_NAME_MAX_CHARS = 100

# We keep the same cap for topics on every platform, so a question looks the same everywhere.
TOPICS_PER_QUESTION = DISCORD_TAGS_PER_POST

# Discord slash command and option names: 1-32 characters, lowercase.
# Source: https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-naming
COMMAND_NAME_MAX_CHARS = 32

# Discord command and option descriptions: 1-100 characters.
# Source: https://discord.com/developers/docs/interactions/application-commands#application-command-object
COMMAND_DESCRIPTION_MAX_CHARS = 100

# Slack slash command names: lowercase, no spaces, at most 32 characters including the slash.
# Source: https://api.slack.com/interactivity/slash-commands#creating_commands
SLACK_COMMAND_NAME_MAX_CHARS = 32

# Platform ids (workspaces, guilds, people, channels) are short: Slack ids are about a dozen
# characters, Discord snowflakes at most 20 digits. The store keeps up to 64 and thread or
# message references up to 128; anything longer is not a real id.
# Sources: https://docs.slack.dev/reference/objects/user-object ,
# https://discord.com/developers/docs/reference#snowflakes
EXTERNAL_ID_MAX_CHARS = 64
MESSAGE_REF_MAX_CHARS = 128
COMMUNITY_NAME_MAX_CHARS = 200

# Slack and Discord both give an interaction 3 seconds before the user sees a failure.
# Sources: https://api.slack.com/interactivity/handling#acknowledgment_response ,
# https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction
INTERACTION_ACK_SECONDS = 3.0

# A topic is a short label; longer text is almost certainly a sentence typed in the wrong place.
TOPIC_MAX_CHARS = 40
