"""Chat channels beside the web UI: the Telegram and Slack bots and their shared formatting.

    from agent.channels.telegram import TelegramBot      # python-telegram-bot, long polling
    from agent.channels.slack import SlackBot            # slack-bolt: HTTP (signed) or Socket Mode
    from agent.channels.core import ChannelCore          # allow-list, commands, agent, buttons, pushes
    from agent.channels import format                    # Reply → Telegram HTML / Slack Block Kit

Both bots are thin adapters over :class:`~agent.channels.core.ChannelCore`, so they answer, refuse,
confirm and push the same way. Start them with ``smart0dte telegram`` / ``smart0dte slack``.
"""
