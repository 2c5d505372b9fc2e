//! The routes of the simulated API and their handlers: parameter parsing, lists, retrieves,
//! the balance and `POST /v1/transfers` with idempotency.
//!
//! Authentication, the `Stripe-Account` scope, latency, rate limiting and faults are applied
//! before any handler runs, by the gate in `server.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use crate::config::PLATFORM_ACCOUNT_ID;
use crate::error::{ApiError, json_bytes_response, json_response};
use crate::render::{Ctx, list};
use crate::server::{Shared, lock};
use crate::store::{Balances, IdemEntry, ListQuery, NewTransfer};
use crate::{
    EVENT_RETENTION_SECS, MAX_AMOUNT_MINOR, MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY_LEN,
    MAX_METADATA_KEY_LEN, MAX_METADATA_KEYS, MAX_METADATA_VALUE_LEN, MAX_PAGE_LIMIT,
};

/// Whose data a request sees: the platform's, or (with `Stripe-Account`) a connected
/// account's, which holds nothing in the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    Platform,
    Connected(String),
}

/// The request's ordinal and `Request-Id`, for what it creates.
#[derive(Debug, Clone)]
pub(crate) struct ReqMeta {
    pub ordinal: u64,
    pub request_id: String,
}

#[derive(Debug, Clone, Copy)]
enum Res {
    BalanceTransactions,
    Payouts,
    Transfers,
    Charges,
    Refunds,
    Disputes,
    Accounts,
    Events,
}

impl Res {
    fn path(self) -> &'static str {
        match self {
            Res::BalanceTransactions => "balance_transactions",
            Res::Payouts => "payouts",
            Res::Transfers => "transfers",
            Res::Charges => "charges",
            Res::Refunds => "refunds",
            Res::Disputes => "disputes",
            Res::Accounts => "accounts",
            Res::Events => "events",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Res::BalanceTransactions => "balance transaction",
            Res::Payouts => "payout",
            Res::Transfers => "transfer",
            Res::Charges => "charge",
            Res::Refunds => "refund",
            Res::Disputes => "dispute",
            Res::Accounts => "account",
            Res::Events => "event",
        }
    }

    /// The filters the list accepts besides `limit`, the cursors, `created` and `expand`.
    fn filters(self) -> &'static [&'static str] {
        match self {
            Res::BalanceTransactions => &["payout", "type", "source", "currency"],
            Res::Payouts => &["status"],
            Res::Transfers => &["destination", "transfer_group"],
            Res::Charges => &["customer", "payment_intent", "transfer_group"],
            Res::Refunds | Res::Disputes => &["charge", "payment_intent"],
            Res::Accounts => &[],
            Res::Events => &["type"],
        }
    }
}

/// The router of every simulated endpoint; unknown paths and methods get Stripe's 404.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut r = Router::new()
        .route("/v1/balance", get(balance_handler))
        .route("/v1/account", get(own_account_handler))
        .route("/v1/transfers/{id}/reversals", get(reversals_handler))
        .route(
            "/v1/transfers/{id}/reversals/{reversal}",
            get(reversal_handler),
        );
    for res in [
        Res::BalanceTransactions,
        Res::Payouts,
        Res::Transfers,
        Res::Charges,
        Res::Refunds,
        Res::Disputes,
        Res::Accounts,
        Res::Events,
    ] {
        let list = get(
            move |s: State<Arc<Shared>>, e: Extension<Scope>, q: RawQuery| {
                list_handler(s, e, q, res)
            },
        );
        let list = match res {
            Res::Transfers => list.post(create_transfer_handler),
            _ => list,
        };
        r = r.route(&format!("/v1/{}", res.path()), list).route(
            &format!("/v1/{}/{{id}}", res.path()),
            get(
                move |s: State<Arc<Shared>>,
                      e: Extension<Scope>,
                      p: StripePath<String>,
                      q: RawQuery| { retrieve_handler(s, e, p, q, res) },
            ),
        );
    }
    r.fallback(unrecognized)
        .method_not_allowed_fallback(unrecognized)
        .with_state(shared)
}

async fn unrecognized(method: Method, uri: Uri) -> Response {
    ApiError::invalid(format!(
        "Unrecognized request URL ({method}: {}). The simulator serves a subset of Stripe's API; \
         see the closebook-stripe-sim crate documentation.",
        uri.path()
    ))
    .status(StatusCode::NOT_FOUND)
    .into_response()
}

// ----- parameters -----

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn is_expand(key: &str) -> bool {
    key == "expand"
        || key
            .strip_prefix("expand[")
            .and_then(|r| r.strip_suffix(']'))
            .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_i64(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .map_err(|_| ApiError::invalid_integer(name, value))
}

fn empty_string(name: &str) -> ApiError {
    ApiError::invalid(format!(
        "You passed an empty string for '{name}'. We assume empty values are an attempt to \
         unset a parameter; however '{name}' cannot be unset. You should remove '{name}' from \
         your request or supply a non-empty value."
    ))
    .param(name)
}

/// A list request's parameters.
#[derive(Debug, Default)]
struct ListParams {
    query: ListQuery,
    filters: BTreeMap<&'static str, String>,
    types: Vec<String>,
}

impl ListParams {
    /// Whether `value` passes the filter `name` (an absent filter passes everything).
    fn pass(&self, name: &str, value: Option<&str>) -> bool {
        self.filters
            .get(name)
            .is_none_or(|f| Some(f.as_str()) == value)
    }
}

fn parse_list(
    raw: Option<&str>,
    allowed: &'static [&'static str],
    created: bool,
    types: bool,
) -> Result<ListParams, ApiError> {
    let mut p = ListParams::default();
    let mut limit: Option<i64> = None;
    let mut min: Option<i64> = None;
    let mut max: Option<i64> = None;
    let raise = |b: &mut Option<i64>, v: i64| *b = Some(b.map_or(v, |x| x.max(v)));
    let lower = |b: &mut Option<i64>, v: i64| *b = Some(b.map_or(v, |x| x.min(v)));
    for (k, v) in query_pairs(raw) {
        if is_expand(&k) || k == "expand[]" {
            continue;
        }
        if types && (k == "types[]" || k.starts_with("types[")) {
            if v.is_empty() {
                return Err(empty_string("types"));
            }
            p.types.push(v);
            continue;
        }
        if v.is_empty() {
            return Err(empty_string(&k));
        }
        match k.as_str() {
            "limit" => limit = Some(parse_i64("limit", &v)?),
            "starting_after" => p.query.starting_after = Some(v),
            "ending_before" => p.query.ending_before = Some(v),
            "created" if created => {
                let t = parse_i64("created", &v)?;
                raise(&mut min, t);
                lower(&mut max, t);
            }
            "created[gt]" if created => raise(&mut min, parse_i64(&k, &v)?.saturating_add(1)),
            "created[gte]" if created => raise(&mut min, parse_i64(&k, &v)?),
            "created[lt]" if created => lower(&mut max, parse_i64(&k, &v)?.saturating_sub(1)),
            "created[lte]" if created => lower(&mut max, parse_i64(&k, &v)?),
            other => match allowed.iter().find(|a| **a == other) {
                Some(name) => {
                    p.filters.insert(name, v);
                }
                None => return Err(ApiError::unknown_parameter(other)),
            },
        }
    }
    if let Some(l) = limit {
        if l < 1 {
            return Err(
                ApiError::invalid("This value must be greater than or equal to 1.")
                    .code("parameter_invalid_integer")
                    .param("limit"),
            );
        }
        if l > i64::from(MAX_PAGE_LIMIT) {
            return Err(ApiError::invalid(format!(
                "This value must be less than or equal to {MAX_PAGE_LIMIT}."
            ))
            .code("parameter_invalid_integer")
            .param("limit"));
        }
        p.query.limit = l as usize;
    }
    if p.query.starting_after.is_some() && p.query.ending_before.is_some() {
        return Err(ApiError::invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
        )
        .param("ending_before"));
    }
    if p.filters.contains_key("type") && !p.types.is_empty() {
        return Err(ApiError::invalid(
            "You may only specify one of these parameters: type, types.",
        )
        .param("types"));
    }
    p.query.created_min = min;
    p.query.created_max = max;
    Ok(p)
}

/// Retrieves take only `expand` (ignored: links are always ids).
fn parse_retrieve(raw: Option<&str>) -> Result<(), ApiError> {
    match query_pairs(raw)
        .into_iter()
        .find(|(k, _)| !is_expand(k) && k != "expand[]")
    {
        Some((k, _)) => Err(ApiError::unknown_parameter(&k)),
        None => Ok(()),
    }
}

/// An event type filter: exact, or a prefix ending in `*` (`charge.*`).
fn type_matches(pattern: &str, type_: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => type_.starts_with(prefix),
        None => pattern == type_,
    }
}

// ----- handlers -----

async fn list_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    RawQuery(q): RawQuery,
    res: Res,
) -> Response {
    match list_inner(&sh, &scope, q.as_deref(), res) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

fn list_inner(sh: &Shared, scope: &Scope, q: Option<&str>, res: Res) -> Result<Value, ApiError> {
    let p = parse_list(q, res.filters(), true, matches!(res, Res::Events))?;
    let url = format!("/v1/{}", res.path());
    if let Scope::Connected(_) = scope {
        // A connected account's view holds nothing: every cursor is unknown there.
        return empty_list(&url, &p.query, res.noun());
    }
    let store = lock(&sh.store);
    let now = sh.now();
    let vis = sh.visible_until(now);
    let ctx = Ctx {
        store: &store,
        now,
        livemode: sh.livemode,
    };
    let (data, has_more): (Vec<Value>, bool) = match res {
        Res::BalanceTransactions => {
            // The payout filter is for automatic payouts only (Stripe's API reference): a
            // manual payout is refused, as Stripe refuses it. An automatic payout lists the
            // balance transactions it paid out, its own among them.
            if let Some(po) = p.filters.get("payout") {
                let payout = store
                    .payouts
                    .get_visible(po, vis)
                    .ok_or_else(|| ApiError::no_such_param("payout", po, "payout"))?;
                if !payout.automatic {
                    return Err(ApiError::invalid(
                        "Balance transaction history can only be filtered on automatic transfers, not manual.",
                    )
                    .param("payout"));
                }
            }
            let currency = p.filters.get("currency").map(|c| c.to_ascii_lowercase());
            let page = store.bts.page(&p.query, res.noun(), vis, |bt| {
                p.pass("type", Some(&bt.kind))
                    && p.pass("source", bt.source.as_deref())
                    && currency.as_ref().is_none_or(|c| *c == bt.currency)
                    && p.pass("payout", bt.payout.as_deref())
            })?;
            (
                page.items
                    .iter()
                    .map(|x| ctx.balance_transaction(x))
                    .collect(),
                page.has_more,
            )
        }
        Res::Payouts => {
            let page = store.payouts.page(&p.query, res.noun(), vis, |po| {
                p.pass("status", Some(po.status(now)))
            })?;
            (
                page.items.iter().map(|x| ctx.payout(x)).collect(),
                page.has_more,
            )
        }
        Res::Transfers => {
            let page = store.transfers.page(&p.query, res.noun(), vis, |t| {
                p.pass("destination", t.destination.as_deref())
                    && p.pass("transfer_group", t.transfer_group.as_deref())
            })?;
            (
                page.items.iter().map(|x| ctx.transfer(x)).collect(),
                page.has_more,
            )
        }
        Res::Charges => {
            // The simulated charges have no customer, payment intent or transfer group.
            let page = store.charges.page(&p.query, res.noun(), vis, |_| {
                p.pass("customer", None)
                    && p.pass("payment_intent", None)
                    && p.pass("transfer_group", None)
            })?;
            (
                page.items.iter().map(|x| ctx.charge(x)).collect(),
                page.has_more,
            )
        }
        Res::Refunds => {
            let page = store.refunds.page(&p.query, res.noun(), vis, |r| {
                p.pass("charge", r.charge.as_deref()) && p.pass("payment_intent", None)
            })?;
            (
                page.items.iter().map(|x| ctx.refund(x)).collect(),
                page.has_more,
            )
        }
        Res::Disputes => {
            let page = store.disputes.page(&p.query, res.noun(), vis, |d| {
                p.pass("charge", Some(&d.charge)) && p.pass("payment_intent", None)
            })?;
            (
                page.items.iter().map(|x| ctx.dispute(x)).collect(),
                page.has_more,
            )
        }
        Res::Accounts => {
            let page = store.accounts.page(&p.query, res.noun(), vis, |_| true)?;
            (
                page.items.iter().map(|x| ctx.account(x)).collect(),
                page.has_more,
            )
        }
        Res::Events => {
            // Stripe lists events of the last 30 days only.
            let kept_from = now.saturating_sub(EVENT_RETENTION_SECS);
            let page = store.events.page(&p.query, res.noun(), vis, |e| {
                e.created >= kept_from
                    && p.filters
                        .get("type")
                        .is_none_or(|t| type_matches(t, &e.type_))
                    && (p.types.is_empty() || p.types.iter().any(|t| type_matches(t, &e.type_)))
            })?;
            (
                page.items.iter().map(|x| ctx.event(x)).collect(),
                page.has_more,
            )
        }
    };
    Ok(list(&url, data, has_more))
}

fn empty_list(url: &str, q: &ListQuery, noun: &str) -> Result<Value, ApiError> {
    if let Some(id) = &q.starting_after {
        return Err(ApiError::no_such_param(noun, id, "starting_after"));
    }
    if let Some(id) = &q.ending_before {
        return Err(ApiError::no_such_param(noun, id, "ending_before"));
    }
    Ok(list(url, vec![], false))
}

/// Path parameters whose failure (an id that is not UTF-8, say) is answered the way Stripe
/// answers every bad request, as a JSON error, not axum's plain-text rejection.
struct StripePath<T>(T);

impl<S, T> axum::extract::FromRequestParts<S> for StripePath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| StripePath(v))
            .map_err(|e| ApiError::invalid(format!("Invalid URL: {}", e.body_text())))
    }
}

async fn retrieve_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    StripePath(id): StripePath<String>,
    RawQuery(q): RawQuery,
    res: Res,
) -> Response {
    let result = parse_retrieve(q.as_deref()).and_then(|()| {
        let store = lock(&sh.store);
        let now = sh.now();
        let vis = sh.visible_until(now);
        let ctx = Ctx {
            store: &store,
            now,
            livemode: sh.livemode,
        };
        let missing = || ApiError::no_such(res.noun(), &id);
        if let Scope::Connected(acct) = &scope {
            // A connected account sees only itself.
            return match (res, store.accounts.get(acct)) {
                (Res::Accounts, Some(a)) if *acct == id => Ok(ctx.account(a)),
                _ => Err(missing()),
            };
        }
        let v = match res {
            Res::BalanceTransactions => store
                .bts
                .get_visible(&id, vis)
                .map(|x| ctx.balance_transaction(x)),
            Res::Payouts => store.payouts.get_visible(&id, vis).map(|x| ctx.payout(x)),
            Res::Transfers => store
                .transfers
                .get_visible(&id, vis)
                .map(|x| ctx.transfer(x)),
            Res::Charges => store.charges.get_visible(&id, vis).map(|x| ctx.charge(x)),
            Res::Refunds => store.refunds.get_visible(&id, vis).map(|x| ctx.refund(x)),
            Res::Disputes => store.disputes.get_visible(&id, vis).map(|x| ctx.dispute(x)),
            Res::Accounts if id == PLATFORM_ACCOUNT_ID => Some(ctx.platform_account()),
            Res::Accounts => store.accounts.get_visible(&id, vis).map(|x| ctx.account(x)),
            Res::Events => store
                .events
                .get_visible(&id, vis)
                .filter(|e| e.created >= now.saturating_sub(EVENT_RETENTION_SECS))
                .map(|x| ctx.event(x)),
        };
        v.ok_or_else(missing)
    });
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

async fn balance_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = parse_retrieve(q.as_deref()).and_then(|()| {
        let store = lock(&sh.store);
        let now = sh.now();
        let ctx = Ctx {
            store: &store,
            now,
            livemode: sh.livemode,
        };
        let balances = match scope {
            Scope::Platform => store.balances(now, sh.visible_until(now))?,
            Scope::Connected(_) => Balances::from([(store.default_currency.clone(), (0, 0))]),
        };
        Ok(ctx.balance(&balances))
    });
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

async fn own_account_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = parse_retrieve(q.as_deref()).and_then(|()| {
        let store = lock(&sh.store);
        let ctx = Ctx {
            store: &store,
            now: sh.now(),
            livemode: sh.livemode,
        };
        match &scope {
            Scope::Platform => Ok(ctx.platform_account()),
            Scope::Connected(acct) => store
                .accounts
                .get(acct)
                .map(|a| ctx.account(a))
                .ok_or_else(|| ApiError::no_such("account", acct)),
        }
    });
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

/// The simulator never reverses a transfer: the list exists and is empty.
async fn reversals_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    StripePath(id): StripePath<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = parse_list(q.as_deref(), &[], false, false).and_then(|p| {
        let store = lock(&sh.store);
        let vis = sh.visible_until(sh.now());
        if scope != Scope::Platform || store.transfers.get_visible(&id, vis).is_none() {
            return Err(ApiError::no_such("transfer", &id));
        }
        empty_list(
            &format!("/v1/transfers/{id}/reversals"),
            &p.query,
            "transfer reversal",
        )
    });
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

async fn reversal_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    StripePath((id, reversal)): StripePath<(String, String)>,
) -> Response {
    let store = lock(&sh.store);
    let vis = sh.visible_until(sh.now());
    if scope != Scope::Platform || store.transfers.get_visible(&id, vis).is_none() {
        return ApiError::no_such("transfer", &id).into_response();
    }
    ApiError::no_such("transfer reversal", &reversal).into_response()
}

/// `POST /v1/transfers`: validate, honour the idempotency key, check the balance, create.
///
/// As at Stripe, a request that fails validation stores nothing under its idempotency key;
/// one that starts executing (success, or `balance_insufficient`) stores its answer, which
/// the same key with the same parameters replays for [`crate::SimConfig::idempotency_window_secs`].
async fn create_transfer_handler(
    State(sh): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    Extension(meta): Extension<ReqMeta>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::invalid(format!(
            "The request body is larger than the simulator's limit of {MAX_BODY_BYTES} bytes."
        ))
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .into_response();
    };
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let mut params: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    params.sort();
    let fingerprint = ("POST".to_string(), "/v1/transfers".to_string(), params);

    let now = sh.now();
    let mut store = lock(&sh.store);
    let window = sh.idempotency_window_secs;
    // Forget expired keys (a clock moved backwards keeps them).
    store
        .idempotency
        .retain(|_, e| now.saturating_sub(e.stored_at) < window);
    let scope_id = match &scope {
        Scope::Platform => String::new(),
        Scope::Connected(a) => a.clone(),
    };
    if let Some(k) = &key
        && let Some(entry) = store.idempotency.get(&(scope_id.clone(), k.clone()))
    {
        if entry.fingerprint != fingerprint {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                format!(
                    "Keys for idempotent requests can only be used with the same parameters \
                     they were first used with. Try using a key other than '{k}' if you meant \
                     to execute a different request."
                ),
            )
            .into_response();
        }
        let mut resp = json_bytes_response(
            StatusCode::from_u16(entry.status).unwrap_or(StatusCode::OK),
            entry.body.clone(),
        );
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return resp;
    }

    // Validation: nothing is stored under the key when it fails.
    let new = match parse_new_transfer(&fingerprint.2) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    if !store.accounts.contains(&new.destination) {
        return ApiError::no_such_param("destination", &new.destination, "destination")
            .into_response();
    }
    if store.restricted.contains(&new.destination) {
        return ApiError::invalid(
            "Your destination account needs to have at least one of the following capabilities \
             enabled: transfers, crypto_transfers, legacy_payments",
        )
        .code("insufficient_capabilities_for_transfer")
        .param("destination")
        .into_response();
    }
    if let Some(ch) = &new.source_transaction
        && (scope != Scope::Platform || !store.charges.contains(ch))
    {
        return ApiError::no_such_param("charge", ch, "source_transaction").into_response();
    }

    // Execution: the answer is stored under the key from here on.
    let available = match &scope {
        Scope::Platform => match store.balances(now, sh.visible_until(now)) {
            Ok(b) => b.get(&new.currency).map_or(0, |ap| ap.0),
            Err(e) => return e.into_response(),
        },
        Scope::Connected(_) => 0,
    };
    let (status, body) = if sh.check_balance && available < new.amount {
        let e = ApiError::invalid(format!(
            "You have insufficient available funds in your Stripe account to transfer {} {} \
             (available: {available}).",
            new.amount, new.currency
        ))
        .code("balance_insufficient");
        (e.status, e.body())
    } else {
        let id = store.create_transfer(new, now, &meta.request_id, meta.ordinal, key.as_deref());
        let ctx = Ctx {
            store: &store,
            now,
            livemode: sh.livemode,
        };
        let t = store.transfers.get(&id).map(|t| ctx.transfer(t));
        (StatusCode::OK, t.unwrap_or(Value::Null))
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    if let Some(k) = key {
        store.idempotency.insert(
            (scope_id, k),
            IdemEntry {
                fingerprint,
                stored_at: now,
                status: status.as_u16(),
                body: bytes.clone(),
            },
        );
    }
    json_bytes_response(status, bytes)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .map_err(|_| ApiError::invalid("The Idempotency-Key header must be printable ASCII."))?;
    if key.is_empty() {
        return Err(ApiError::invalid(
            "The Idempotency-Key header must not be empty.",
        ));
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(ApiError::invalid(format!(
            "Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LEN} characters long (got {}).",
            key.len()
        )));
    }
    Ok(Some(key.to_string()))
}

fn parse_new_transfer(params: &[(String, String)]) -> Result<NewTransfer, ApiError> {
    let mut amount = None;
    let mut currency = None;
    let mut destination = None;
    let mut t = NewTransfer {
        amount: 0,
        currency: String::new(),
        destination: String::new(),
        transfer_group: None,
        metadata: BTreeMap::new(),
        description: None,
        source_transaction: None,
    };
    let non_empty = |v: &str| (!v.is_empty()).then(|| v.to_string());
    for (k, v) in params {
        match k.as_str() {
            "amount" => amount = Some(v.clone()),
            "currency" => currency = Some(v.clone()),
            "destination" => destination = Some(v.clone()),
            "transfer_group" => t.transfer_group = non_empty(v),
            "description" => t.description = non_empty(v),
            "source_transaction" => t.source_transaction = non_empty(v),
            "source_type" => {
                if !matches!(v.as_str(), "bank_account" | "card" | "fpx") {
                    return Err(ApiError::invalid(format!(
                        "Invalid source_type: must be one of bank_account, card or fpx (got '{v}')"
                    ))
                    .param("source_type"));
                }
            }
            // An empty `metadata` unsets everything: nothing to do on a create.
            "metadata" if v.is_empty() => {}
            k if is_expand(k) || k == "expand[]" => {}
            k if k.starts_with("metadata[") && k.ends_with(']') => {
                let name = &k["metadata[".len()..k.len() - 1];
                if name.is_empty() || name.len() > MAX_METADATA_KEY_LEN {
                    return Err(ApiError::invalid(format!(
                        "Metadata keys must be 1 to {MAX_METADATA_KEY_LEN} characters long."
                    ))
                    .param(k));
                }
                if v.len() > MAX_METADATA_VALUE_LEN {
                    return Err(ApiError::invalid(format!(
                        "Metadata values can have up to {MAX_METADATA_VALUE_LEN} characters."
                    ))
                    .param(k));
                }
                // An empty value unsets the key: on a create, it is simply absent.
                if !v.is_empty() {
                    t.metadata.insert(name.to_string(), v.clone());
                }
            }
            other => return Err(ApiError::unknown_parameter(other)),
        }
    }
    if t.metadata.len() > MAX_METADATA_KEYS {
        return Err(ApiError::invalid(format!(
            "You can have up to {MAX_METADATA_KEYS} metadata keys (got {}).",
            t.metadata.len()
        ))
        .param("metadata"));
    }
    let amount = amount.ok_or_else(|| ApiError::missing_parameter("amount"))?;
    let amount = parse_i64("amount", &amount)?;
    if amount < 1 {
        return Err(
            ApiError::invalid("This value must be greater than or equal to 1.")
                .code("parameter_invalid_integer")
                .param("amount"),
        );
    }
    if amount > MAX_AMOUNT_MINOR {
        return Err(ApiError::invalid(format!(
            "Amount must be no more than {MAX_AMOUNT_MINOR} in the currency's minor unit."
        ))
        .code("amount_too_large")
        .param("amount"));
    }
    t.amount = amount;
    let currency = currency.ok_or_else(|| ApiError::missing_parameter("currency"))?;
    let currency = currency.to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(ApiError::invalid(format!("Invalid currency: {currency}")).param("currency"));
    }
    t.currency = currency;
    t.destination = destination
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("destination"))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        let mut v = query_pairs(Some(s));
        v.sort();
        v
    }

    #[test]
    fn list_parameters_parse_like_stripe() {
        let p = parse_list(
            Some("created[gte]=10&created[lt]=20&limit=100&payout=po_1&starting_after=txn_0&type=charge&expand[0]=data.source"),
            Res::BalanceTransactions.filters(),
            true,
            false,
        )
        .unwrap();
        assert_eq!(p.query.limit, 100);
        assert_eq!(p.query.created_min, Some(10));
        assert_eq!(p.query.created_max, Some(19));
        assert_eq!(p.query.starting_after.as_deref(), Some("txn_0"));
        assert_eq!(p.filters.get("payout").map(String::as_str), Some("po_1"));
        // Percent-encoded brackets mean the same.
        let p = parse_list(Some("created%5Bgt%5D=5&created=9"), &[], true, false).unwrap();
        assert_eq!(
            (p.query.created_min, p.query.created_max),
            (Some(9), Some(9))
        );
        for (q, param) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("bogus=1", "bogus"),
            ("starting_after=", "starting_after"),
            ("created[gt]=x", "created[gt]"),
        ] {
            let e = parse_list(Some(q), &[], true, false).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "{q}");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
        assert!(parse_list(Some("starting_after=a&ending_before=b"), &[], true, false).is_err());
        assert!(parse_list(Some("created=1"), &[], false, false).is_err());
        let p = parse_list(Some("types[0]=a.b&types[1]=c.*"), &["type"], true, true).unwrap();
        assert_eq!(p.types, ["a.b", "c.*"]);
        assert!(parse_list(Some("types[0]=a&type=b"), &["type"], true, true).is_err());
    }

    #[test]
    fn event_type_patterns() {
        assert!(type_matches("charge.*", "charge.dispute.created"));
        assert!(type_matches("payout.paid", "payout.paid"));
        assert!(!type_matches("charge.*", "transfer.created"));
        assert!(!type_matches("payout", "payout.paid"));
    }

    #[test]
    fn transfer_parameters_are_validated() {
        let t = parse_new_transfer(&pairs(
            "amount=1234&currency=USD&destination=acct_1&metadata[line]=7&metadata[gone]=&transfer_group=g1&description=d",
        ))
        .unwrap();
        assert_eq!(t.amount, 1234);
        assert_eq!(t.currency, "usd");
        assert_eq!(
            t.metadata,
            BTreeMap::from([("line".to_string(), "7".to_string())])
        );
        assert_eq!(t.transfer_group.as_deref(), Some("g1"));
        for (body, param) in [
            ("currency=usd&destination=acct_1", "amount"),
            ("amount=0&currency=usd&destination=acct_1", "amount"),
            ("amount=-5&currency=usd&destination=acct_1", "amount"),
            ("amount=1.5&currency=usd&destination=acct_1", "amount"),
            ("amount=100000000&currency=usd&destination=acct_1", "amount"),
            ("amount=1&destination=acct_1", "currency"),
            ("amount=1&currency=us&destination=acct_1", "currency"),
            ("amount=1&currency=usd", "destination"),
            ("amount=1&currency=usd&destination=acct_1&foo=bar", "foo"),
        ] {
            let e = parse_new_transfer(&pairs(body)).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "{body}");
        }
        let long_key = format!(
            "amount=1&currency=usd&destination=a&metadata[{}]=v",
            "k".repeat(41)
        );
        assert!(parse_new_transfer(&pairs(&long_key)).is_err());
        let many: String = (0..51).map(|i| format!("&metadata[k{i}]=v")).collect();
        assert!(
            parse_new_transfer(&pairs(&format!(
                "amount=1&currency=usd&destination=a{many}"
            )))
            .is_err()
        );
    }
}
