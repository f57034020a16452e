"""Wire format of the TWS API socket protocol, server side, for the loopback TWS server.

The TWS API speaks length-prefixed messages over TCP: a 4-byte big-endian length, then the
message's fields as text, each terminated by ``\\0``. The first field is the message id; older
messages carry a version after it. The connection opens with ``API\\0`` followed by one
length-prefixed ``v<min>..<max>`` string (the client's protocol version range); the server
answers with two fields, its own version and the connection time, and the client then sends
``startApi`` (id 71).

This module knows only bytes and fields: :class:`FrameReader` splits the stream into field
lists, :func:`frame` builds one message, :class:`FieldReader` walks a request's fields, and the
``encode_*`` functions build the server's replies in the field order that a client of
:data:`SERVER_VERSION` decodes (the order is the protocol, read off the public decoder of
``ib_async``; the values are ours).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: The protocol version this server speaks (the newest ``ib_async`` 2.x understands).
SERVER_VERSION = 178
MIN_CLIENT_VERSION = 157
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1


# --- incoming messages ---------------------------------------------------------------------
# ids of the client → server messages the loopback server handles
REQ_MKT_DATA, PLACE_ORDER, CANCEL_ORDER, REQ_OPEN_ORDERS, REQ_ACCOUNT_UPDATES = 1, 3, 4, 5, 6
REQ_EXECUTIONS, REQ_IDS, REQ_CONTRACT_DETAILS, REQ_AUTO_OPEN_ORDERS = 7, 8, 9, 15
REQ_ALL_OPEN_ORDERS, REQ_MANAGED_ACCTS, REQ_CURRENT_TIME, REQ_MARKET_DATA_TYPE = 16, 17, 49, 59
REQ_POSITIONS, REQ_ACCOUNT_SUMMARY, CANCEL_ACCOUNT_SUMMARY, CANCEL_POSITIONS = 61, 62, 63, 64
START_API, REQ_ACCOUNT_UPDATES_MULTI, CANCEL_ACCOUNT_UPDATES_MULTI = 71, 76, 77
REQ_COMPLETED_ORDERS = 99

# ids of the server → client messages
ORDER_STATUS, ERR_MSG, OPEN_ORDER, ACCT_VALUE, ACCT_UPDATE_TIME, NEXT_VALID_ID = 3, 4, 5, 6, 8, 9
CONTRACT_DATA, EXECUTION_DATA, MANAGED_ACCTS, CURRENT_TIME, CONTRACT_DATA_END = 10, 11, 15, 49, 52
OPEN_ORDER_END, ACCT_DOWNLOAD_END, EXECUTION_DATA_END, COMMISSION_REPORT = 53, 54, 55, 59
POSITION_DATA, POSITION_END, ACCOUNT_SUMMARY, ACCOUNT_SUMMARY_END = 61, 62, 63, 64
ACCOUNT_UPDATE_MULTI, ACCOUNT_UPDATE_MULTI_END, COMPLETED_ORDER, COMPLETED_ORDERS_END = 73, 74, 101, 102


def text(value: object) -> str:
    """One field as the protocol writes it: ``None``/unset → empty, bools → 1/0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value == UNSET_DOUBLE or math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int) and value == UNSET_INTEGER:
        return ""
    return str(value)


def frame(*fields: object) -> bytes:
    """One length-prefixed message."""
    body = "".join(text(f) + "\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


class FrameReader:
    """Accumulates socket bytes; yields complete messages as field lists.

    The very first message of a connection is the ``API\\0`` greeting, which :meth:`greeting`
    consumes (it returns the client's version range, or ``None`` while incomplete).
    """

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> None:
        self._buf += data

    def greeting(self) -> tuple[int, int] | None:
        if len(self._buf) < 8:
            return None
        if not self._buf.startswith(b"API\0"):
            raise ValueError("connection did not start with the API greeting")
        (n,) = struct.unpack(">I", self._buf[4:8])
        if len(self._buf) < 8 + n:
            return None
        body = self._buf[8:8 + n].decode()
        self._buf = self._buf[8 + n:]
        versions = body.split(" ", 1)[0]
        if not versions.startswith("v") or ".." not in versions:
            raise ValueError(f"malformed version range {body!r}")
        lo, hi = versions[1:].split("..")
        return int(lo), int(hi)

    def messages(self) -> list[list[str]]:
        out = []
        while len(self._buf) >= 4:
            (n,) = struct.unpack(">I", self._buf[:4])
            if len(self._buf) < 4 + n:
                break
            body = self._buf[4:4 + n].decode(errors="backslashreplace")
            self._buf = self._buf[4 + n:]
            fields = body.split("\0")
            if fields and fields[-1] == "":
                fields.pop()
            out.append(fields)
        return out


class FieldReader:
    """Walks the fields of one request in order, converting as the protocol defines."""

    def __init__(self, fields: Sequence[str], start: int = 1) -> None:
        self._f = fields
        self._i = start

    def str(self) -> str:
        v = self._f[self._i] if self._i < len(self._f) else ""
        self._i += 1
        return v

    def int(self, default: int = 0) -> int:
        v = self.str()
        return int(v) if v else default

    def float(self, default: float | None = None) -> float | None:
        v = self.str()
        if not v:
            return default
        return math.inf if v == "Infinite" else float(v)

    def bool(self) -> bool:
        v = self.str()
        return bool(int(v)) if v else False

    def skip(self, n: int) -> None:
        self._i += n


# --- records the server keeps --------------------------------------------------------------
@dataclass
class Listing:
    """One contract the loopback exchange lists (what ``reqContractDetails`` finds)."""

    con_id: int
    symbol: str
    sec_type: str                 # OPT | STK | IND
    expiry: str = ""              # YYYYMMDD
    strike: float = 0.0
    right: str = ""               # C | P
    multiplier: str = ""
    exchange: str = "SMART"
    currency: str = "USD"
    local_symbol: str = ""
    trading_class: str = ""
    min_tick: float = 0.01
    bid: float = 0.0
    ask: float = 0.0
    long_name: str = ""

    @property
    def mult(self) -> int:
        return int(self.multiplier or 1)

    def contract_fields(self, exchange: str | None = None) -> list[object]:
        """conId … tradingClass as in openOrder/execDetails/position (11 fields)."""
        return [self.con_id, self.symbol, self.sec_type, self.expiry, self.strike, self.right,
                self.multiplier, exchange if exchange is not None else self.exchange, self.currency,
                self.local_symbol, self.trading_class]


@dataclass
class ComboLegSpec:
    con_id: int
    ratio: int
    action: str                   # BUY | SELL
    exchange: str = ""


@dataclass
class OrderContract:
    """The contract of an order as the client sent it (a listing, or a BAG of listings)."""

    con_id: int
    symbol: str
    sec_type: str
    expiry: str
    strike: float
    right: str
    multiplier: str
    exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    legs: list[ComboLegSpec] = field(default_factory=list)

    def contract_fields(self) -> list[object]:
        return [self.con_id, self.symbol, self.sec_type, self.expiry, self.strike or 0.0, self.right,
                self.multiplier, self.exchange, self.currency, self.local_symbol, self.trading_class]


@dataclass
class ServerOrder:
    order_id: int
    client_id: int
    perm_id: int
    contract: OrderContract
    action: str
    quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    account: str
    order_ref: str
    what_if: bool = False
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    leg_filled: dict[int, float] = field(default_factory=dict)   # conId → shares filled so far
    completed_time: str = ""
    completed_status: str = ""      # IB's words, e.g. "Cancelled by Trader"

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def done(self) -> bool:
        return self.status in ("Filled", "Cancelled", "ApiCancelled", "Inactive")


@dataclass
class ServerExecution:
    exec_id: str
    order: ServerOrder
    contract_fields: list[object]
    time: str                     # "YYYYMMDD HH:MM:SS UTC"
    account: str
    exchange: str
    side: str                     # BOT | SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    commission: float | None      # None: no commission report (the BAG summary execution)
    sec_type: str = ""
    symbol: str = ""


@dataclass
class Margin:
    """What-if numbers of an order (IB reports them as strings in ``OrderState``)."""

    init_before: float
    maint_before: float
    ewl_before: float
    init_change: float
    maint_change: float
    commission: float

    def state_fields(self) -> list[object]:
        after = (self.init_before + self.init_change, self.maint_before + self.maint_change,
                 self.ewl_before - self.commission)
        return [f"{v:.2f}" for v in (self.init_before, self.maint_before, self.ewl_before,
                                     self.init_change, self.maint_change, -self.commission,
                                     *after)]


# --- outgoing messages ---------------------------------------------------------------------
def encode_error(req_id: int, code: int, message: str) -> bytes:
    return frame(ERR_MSG, 2, req_id, code, message, "")


def encode_order_status(o: ServerOrder) -> bytes:
    return frame(ORDER_STATUS, o.order_id, o.status, o.filled, o.remaining, o.avg_fill_price,
                 o.perm_id, 0, o.last_fill_price, o.client_id, "", 0.0)


def encode_open_order(o: ServerOrder, margin: Margin | None = None) -> bytes:
    c = o.contract
    legs = _combo_fields(c)
    descrip = ",".join(f"{leg.con_id}|{leg.ratio if leg.action == 'BUY' else -leg.ratio}"
                       for leg in c.legs)
    state: list[object] = margin.state_fields() if margin else [""] * 9
    fields: list[object] = [
        OPEN_ORDER, o.order_id, *c.contract_fields(),
        o.action, o.quantity, o.order_type, o.lmt_price, o.aux_price, o.tif, "", o.account, "",
        0, o.order_ref, o.client_id, o.perm_id, 0, 0, 0.0, "", "", "", "", "",
        # modelCode … deltaNeutralAuxPrice (29 fields)
        "", "", "", "", "", 0, "", -1, 0, "", "", "", "", "", 0, 0, 0, 0, "", 0, 0, 0, "", 0, 0,
        "", 0, "", "",
        # continuousUpdate … comboLegsDescrip
        0, 0, "", "", "", "", descrip,
        *legs, 0, 0,                      # order combo leg prices, smart combo routing params
        "", "", "",                       # scale init/subs level size, price increment
        "",                               # hedge type
        0, "", "", 0, 0,                  # optOutSmartRouting … notHeld, no delta-neutral contract
        "",                               # algo strategy
        0, o.what_if, o.status, *state,
        margin.commission if margin else "", "", "", "USD" if margin else "", "",
        0, 0,                             # randomize size/price
        0,                                # conditions
        "", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0,
        "", 0, 0,                         # duration, postToAts, autoCancelParent
        "", "", "", "", "",               # minTradeQty … midOffsetAtHalf
    ]
    return frame(*fields)


def _combo_fields(c: OrderContract) -> list[object]:
    legs: list[object] = [len(c.legs)]
    for leg in c.legs:
        legs += [leg.con_id, leg.ratio, leg.action, leg.exchange, 0, 0, "", -1]
    return legs


def encode_completed_order(o: ServerOrder) -> bytes:
    """A finished order as ``reqCompletedOrders`` reports it (no orderId/clientId: permId only)."""
    c = o.contract
    fields: list[object] = [
        COMPLETED_ORDER, *c.contract_fields(),
        o.action, o.quantity, o.order_type, o.lmt_price, o.aux_price, o.tif, "", o.account, "", 0,
        o.order_ref, o.perm_id, 0, 0, 0.0, "", "", "", "",
        # modelCode … deltaNeutralAuxPrice (23 fields)
        "", "", "", "", "", 0, "", -1, "", "", "", "", "", 0, 0, 0, "", 0, 0, "", 0, "", "",
        0, 0, "", "", "",                 # continuousUpdate … comboLegsDescrip
        *_combo_fields(c), 0, 0,          # legs, order combo leg prices, smart combo routing params
        "", "", "", "",                   # scale init/subs level size, price increment; hedge type
        "", "", 0, 0,                     # clearingAccount, clearingIntent, notHeld, no delta-neutral
        "",                               # algo strategy
        0, o.status, 0, 0,                # solicited, status, randomize size/price
        0,                                # conditions
        "", "", "", 0, 0, "", o.filled, "", 0, "", 0, 0, "", o.completed_time, o.completed_status,
        "", "", "", "", "",               # minTradeQty … midOffsetAtHalf
    ]
    return frame(*fields)


def encode_contract_details(req_id: int, li: Listing) -> bytes:
    under_sec = "IND" if li.symbol in ("SPX", "VIX", "NDX", "RUT") else "STK"
    return frame(
        CONTRACT_DATA, req_id, li.symbol, li.sec_type, li.expiry, li.strike, li.right, li.exchange,
        li.currency, li.local_symbol, li.trading_class, li.trading_class, li.con_id, li.min_tick,
        li.multiplier, "LMT,MKT,STP,STPLMT", f"{li.exchange},CBOE,ISE" if li.exchange == "SMART"
        else li.exchange, 1, 0, li.long_name or li.symbol, "", li.expiry[:6], "", "", "",
        "US/Eastern", "", "", "", "", 0,
        1, li.symbol if li.sec_type == "OPT" else "", under_sec if li.sec_type == "OPT" else "",
        "32", li.expiry, "", 1, 1, 1)


def encode_execution(req_id: int, e: ServerExecution) -> bytes:
    o = e.order
    return frame(EXECUTION_DATA, req_id, o.order_id, *e.contract_fields, e.exec_id, e.time,
                 e.account, e.exchange, e.side, e.shares, e.price, o.perm_id, o.client_id, 0,
                 e.cum_qty, e.avg_price, o.order_ref, "", "", "", 2, 0)


def encode_commission(e: ServerExecution) -> bytes:
    return frame(COMMISSION_REPORT, 1, e.exec_id, e.commission, "USD", UNSET_DOUBLE, UNSET_DOUBLE, "")


def encode_position(account: str, li: Listing, qty: float, avg_cost: float) -> bytes:
    return frame(POSITION_DATA, 3, account, *li.contract_fields(exchange=""), qty, avg_cost)


def encode_account_values(account: str, values: Iterable[tuple[str, str]]) -> list[bytes]:
    return [frame(ACCT_VALUE, 2, tag, val, "USD", account) for tag, val in values]
