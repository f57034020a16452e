"""The conversation layer: the LLM agent and the offline router, memory, confirmation, channels.

API for chat surfaces (Chainlit UI, Telegram, Slack, terminal)::

    from agent.core import Assistant
    from agent.confirm import confirm_pending, decline_pending

    assistant = Assistant(engine, person)          # person: engine.core.principal.Principal (a PERSON)
    result = await assistant.ask("paper-sell a 10-wide QQQ iron condor at 20 delta", thread_id="t1")
    result.answer                 # str, quotes the tools' numbers
    result.tool_calls             # [ToolCall(name, args, ok, output, error)]
    result.pending_confirmation   # None | {"kind": "order", "ticket_id", "expires_at", "ledger", "preview", "risk"}
                                  #      | {"kind": "cancel_order", "ticket_id": None, "args": {...}}
    result.orders_placed          # always [] — the assistant never confirms
    result.to_json()              # the `smart0dte ask --json` contract

    async for event in assistant.stream(text, thread_id):      # agent.types.Event
        event.kind   # "tool_start" (event.call) | "tool_end" (event.call with output/error)
                     # | "token" (event.text, a piece of the answer) | "final" (event.result: AskResult)

    # the PERSON said yes on the surface (button, bot reply, CLI prompt) — never the model:
    await confirm_pending(engine, result.pending_confirmation, person)   # Engine.confirm for orders
    await decline_pending(engine, result.pending_confirmation, person)   # cancels the ticket

    assistant.history(thread_id) ; assistant.delete_history(thread_id | None)   # "delete my history"

``Assistant(engine, person, llm="auto" | "offline" | <LangChain chat model>, ledger="paper")``:
``"auto"`` uses the LangChain agent on ``ChatOpenAI`` when ``SMART0DTE_OPENAI_API_KEY`` or
``SMART0DTE_OPENAI_BASE_URL`` is set, else the deterministic offline router. The assistant acts as
``Principal.agent_for(person)``: it can read and stage, never confirm; state-changing tools are
returned as ``pending_confirmation`` for the person. Tool results reach the model only inside an
untrusted-data envelope; secrets are redacted from everything the model or a person sees.

Modules: ``core`` (Assistant), ``types`` (ToolCall, Event, AskResult), ``router/`` (offline
parser), ``answers`` (templates), ``llm`` (LangChain agent), ``langchain_tools`` (registry →
LangChain tools), ``memory`` (per-user/thread history in the database), ``safety`` (envelope,
redaction), ``prompts`` (loader of ``prompts/*.txt``), ``confirm`` (person-only actions), ``cli/``.
"""
