"""The Chainlit web chat: Smart-0DTE's front door (``smart0dte ui``, ``make run``).

Modules: ``launch`` (prepares Chainlit's app root under ``SMART0DTE_HOME/ui``: generated
``.chainlit/config.toml``, the welcome page, the PAPER/LIVE banner script; resolves users and the
session secret; runs Chainlit headless), ``auth`` (argon2 password check, demo account),
``render`` (tool results → Markdown tables), ``charts`` (Plotly figures: equity curve, payoff,
scenario heat map), ``orders`` (order-ticket preview and the person's Confirm/Cancel), ``datalayer``
(Chainlit threads, steps and elements on our own database), ``app`` (the Chainlit callbacks).

Nothing here places an order by itself: a staged ticket reaches the broker only through
:func:`agent.confirm.confirm_pending` after a logged-in person clicked Confirm.
"""
