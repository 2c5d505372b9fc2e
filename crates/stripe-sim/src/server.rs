//! The server: a loopback accept loop serving each connection with hyper (so a fault can
//! drop or reset the connection itself), the gate every request passes (recording, latency,
//! faults, rate limit, authentication, `Stripe-Account`), and the handle tests hold.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, Sleep};

use crate::MAX_RECORDED_REQUESTS;
use crate::api::{ReqMeta, Scope, router};
use crate::config::{FaultKind, FaultPlan, PLATFORM_ACCOUNT_ID, SimConfig, redact_key};
use crate::dataset::Dataset;
use crate::error::{ApiError, SimError};
use crate::store::{CreatedTransfer, Store};

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// 1 for the first request the simulator received.
    pub ordinal: u64,
    pub method: String,
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    pub stripe_account: Option<String>,
    pub idempotency_key: Option<String>,
    /// The status sent; `None` when no response went out (timeout, reset).
    pub status: Option<u16>,
    /// The fault applied to it, if any.
    pub fault: Option<FaultKind>,
    /// Whether the answer was an idempotent replay.
    pub idempotent_replayed: bool,
    /// The `Request-Id` header sent (also on events the request created).
    pub request_id: String,
}

/// Starts simulators.
pub struct Simulator;

/// State shared by the gate, the handlers and the handle.
pub(crate) struct Shared {
    pub livemode: bool,
    api_key: String,
    pub idempotency_window_secs: i64,
    pub check_balance: bool,
    reveal_by_clock: bool,
    timeout_hold: Duration,
    now: AtomicI64,
    latency: Mutex<Duration>,
    rate: Mutex<RateWindow>,
    faults: Mutex<FaultPlan>,
    ordinal: AtomicU64,
    requests: Mutex<VecDeque<RequestRecord>>,
    pub store: Mutex<Store>,
}

/// Locks, ignoring poisoning: a panicking handler leaves the data consistent (every change
/// is made in one step under the lock).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    /// The newest `created` that exists, when the clock reveals the dataset gradually.
    pub fn visible_until(&self, now: i64) -> Option<i64> {
        self.reveal_by_clock.then_some(now)
    }

    fn record(&self, rec: RequestRecord) {
        let mut r = lock(&self.requests);
        r.push_back(rec);
        while r.len() > MAX_RECORDED_REQUESTS {
            r.pop_front();
        }
    }

    /// Records the response and stamps it with its `Request-Id`.
    fn finish(&self, mut rec: RequestRecord, mut resp: Response) -> Response {
        if let Ok(v) = HeaderValue::from_str(&rec.request_id) {
            resp.headers_mut().insert("request-id", v);
        }
        rec.status = Some(resp.status().as_u16());
        rec.idempotent_replayed = resp.headers().contains_key("idempotent-replayed");
        self.record(rec);
        resp
    }

    /// Rate limit, key, `Stripe-Account`: the scope the request runs in, or its error.
    fn admit(&self, req: &Request) -> Result<Scope, ApiError> {
        if !lock(&self.rate).admit(Instant::now()) {
            return Err(ApiError::rate_limited());
        }
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match auth.and_then(|a| a.strip_prefix("Bearer ")).map(str::trim) {
            None | Some("") => {
                return Err(ApiError::invalid(
                    "You did not provide an API key. You need to provide your API key in the \
                     Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
                     YOUR_SECRET_KEY').",
                )
                .status(StatusCode::UNAUTHORIZED));
            }
            Some(key) if key == self.api_key => {}
            Some(key) => {
                return Err(ApiError::invalid(format!(
                    "Invalid API Key provided: {}",
                    redact_key(key)
                ))
                .status(StatusCode::UNAUTHORIZED));
            }
        }
        let account = req
            .headers()
            .get("stripe-account")
            .map(|v| v.to_str().unwrap_or("").to_string());
        match account {
            None => Ok(Scope::Platform),
            Some(a) if a == PLATFORM_ACCOUNT_ID => Ok(Scope::Platform),
            Some(a) if lock(&self.store).accounts.contains(&a) => Ok(Scope::Connected(a)),
            Some(a) => Err(ApiError::invalid(format!(
                "The provided key '{}' does not have access to account '{a}' (or that account \
                 does not exist). Application access may have been revoked.",
                redact_key(&self.api_key)
            ))
            .status(StatusCode::FORBIDDEN)
            .code("account_invalid")),
        }
    }
}

/// Requests admitted in the last second (a sliding window).
struct RateWindow {
    per_second: Option<u32>,
    admitted: VecDeque<Instant>,
}

impl RateWindow {
    fn admit(&mut self, now: Instant) -> bool {
        let Some(n) = self.per_second else {
            return true;
        };
        while self
            .admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.admitted.pop_front();
        }
        if self.admitted.len() < n as usize {
            self.admitted.push_back(now);
            true
        } else {
            false
        }
    }
}

/// Lets a handler end its own connection: the connection task drops the connection (and
/// the handler with it) when told, after arranging a TCP reset.
#[derive(Clone)]
struct ConnKill {
    notify: Arc<Notify>,
    reset: Arc<AtomicBool>,
}

impl ConnKill {
    fn kill(&self) {
        self.reset.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// The connection's socket; when the connection was killed, closing it sends a TCP RST
/// (zero linger) instead of an orderly FIN.
struct SimStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for SimStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for SimStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Drops the connection without a response (a reset); never returns.
async fn drop_connection(kill: Option<ConnKill>) -> Response {
    match kill {
        Some(k) => {
            k.kill();
            std::future::pending::<Response>().await
        }
        // Only reachable if the router is served by something other than `serve`.
        None => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "the simulator cannot drop this connection",
        )
        .into_response(),
    }
}

/// How long the first half of a truncated body is given to reach the socket before the
/// connection is aborted.
const TRUNCATION_FLUSH: Duration = Duration::from_millis(50);

/// A body that announces its full length, sends the first half, then fails (hyper aborts
/// the connection on a body error).
struct CutBody {
    head: Option<Bytes>,
    wait: Option<Pin<Box<Sleep>>>,
    total: u64,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if let Some(wait) = self.wait.as_mut() {
            if wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.wait = None;
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "simulated truncated body",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total)
    }
}

async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let total = bytes.len() as u64;
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    let cut = CutBody {
        head: Some(bytes.slice(..bytes.len() / 2)),
        wait: Some(Box::pin(tokio::time::sleep(TRUNCATION_FLUSH))),
        total,
    };
    Response::from_parts(parts, Body::new(cut))
}

/// Every request passes here first: ordinal and record, latency, the fault plan, the rate
/// limit, the key and the account scope, then the handler, then faults that lose the answer.
async fn gate(State(sh): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let ordinal = sh.ordinal.fetch_add(1, Ordering::SeqCst) + 1;
    // `Request` is not `Sync`: no reference to it may live across an await.
    let header_str = |req: &Request, name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut rec = RequestRecord {
        ordinal,
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        stripe_account: header_str(&req, "stripe-account"),
        idempotency_key: header_str(&req, "idempotency-key"),
        status: None,
        fault: None,
        idempotent_replayed: false,
        request_id: format!("req_sim{ordinal:014}"),
    };
    let kill = req.extensions().get::<ConnKill>().cloned();
    let latency = *lock(&sh.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = lock(&sh.faults).fault_for(ordinal);
    rec.fault = fault;
    if let Some(kind) = fault
        && !kind.executes_request()
    {
        let resp = match kind {
            FaultKind::Status(code) => ApiError::new(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "api_error",
                format!(
                    "An error occurred with our connection to Stripe. (Simulated fault on \
                     request #{ordinal}.)"
                ),
            )
            .should_retry(true)
            .into_response(),
            FaultKind::NonRetryable => ApiError::invalid(format!(
                "This request cannot be retried. (Simulated fault on request #{ordinal}.)"
            ))
            .should_retry(false)
            .into_response(),
            FaultKind::RateLimited => ApiError::rate_limited().into_response(),
            _ => {
                sh.record(rec);
                return drop_connection(kill).await;
            }
        };
        return sh.finish(rec, resp);
    }
    let resp = match sh.admit(&req) {
        Err(e) => e.into_response(),
        Ok(scope) => {
            req.extensions_mut().insert(scope);
            req.extensions_mut().insert(ReqMeta {
                ordinal,
                request_id: rec.request_id.clone(),
            });
            next.run(req).await
        }
    };
    match fault {
        Some(FaultKind::Timeout) => {
            sh.record(rec);
            tokio::time::sleep(sh.timeout_hold).await;
            drop_connection(kill).await
        }
        Some(FaultKind::ConnectionResetAfterProcessing) => {
            sh.record(rec);
            drop_connection(kill).await
        }
        Some(FaultKind::TruncatedBody) => {
            let resp = sh.finish(rec, resp);
            truncate(resp).await
        }
        _ => sh.finish(rec, resp),
    }
}

async fn serve_connection(stream: TcpStream, app: Router) {
    let kill = ConnKill {
        notify: Arc::new(Notify::new()),
        reset: Arc::new(AtomicBool::new(false)),
    };
    let io = TokioIo::new(SimStream {
        inner: stream,
        reset: kill.reset.clone(),
    });
    let k = kill.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(k.clone());
        let mut app = app.clone();
        async move {
            std::future::poll_fn(|cx| {
                tower_service::Service::<hyper::Request<hyper::body::Incoming>>::poll_ready(
                    &mut app, cx,
                )
            })
            .await?;
            tower_service::Service::call(&mut app, req).await
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(io, svc);
    tokio::select! {
        _ = conn => {}
        () = kill.notify.notified() => {}
    }
}

async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_connection(stream, app.clone()));
                }
                // Out of descriptors or a connection that died in the backlog: wait a little
                // rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.shutdown().await;
}

fn prepare(
    dataset: Dataset,
    config: SimConfig,
) -> Result<(Arc<Shared>, std::net::TcpListener), SimError> {
    let port = config.port;
    let shared = build_shared(dataset, config)?;
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    listener.set_nonblocking(true)?;
    Ok((shared, listener))
}

fn build_shared(dataset: Dataset, config: SimConfig) -> Result<Arc<Shared>, SimError> {
    config.validate()?;
    let now = config.now.unwrap_or_else(|| dataset.suggested_now());
    let store = Store::build(&dataset, &config.restricted_accounts, config.id_seed)?;
    Ok(Arc::new(Shared {
        livemode: config.mode.livemode(),
        api_key: config.api_key,
        idempotency_window_secs: config.idempotency_window_secs,
        check_balance: config.check_balance,
        reveal_by_clock: config.reveal_by_clock,
        timeout_hold: config.timeout_hold,
        now: AtomicI64::new(now),
        latency: Mutex::new(config.latency),
        rate: Mutex::new(RateWindow {
            per_second: config.rate_limit,
            admitted: VecDeque::new(),
        }),
        faults: Mutex::new(config.faults),
        ordinal: AtomicU64::new(0),
        requests: Mutex::new(VecDeque::new()),
        store: Mutex::new(store),
    }))
}

/// The simulator without a socket: the same router and gate (authentication, rate limit,
/// faults, recording) answering requests handed to it directly. For fuzzing the request
/// parser, where a connection per input would exercise the kernel rather than our code.
pub struct SimService {
    app: Router,
}

impl SimService {
    pub fn new(dataset: Dataset, config: SimConfig) -> Result<SimService, SimError> {
        Ok(SimService {
            app: app(build_shared(dataset, config)?),
        })
    }

    /// Answers one request: its status and body. `None` when the method, target or a
    /// header cannot form an HTTP request at all (the HTTP server refuses those before
    /// the simulator sees them).
    pub async fn handle(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Option<(u16, Bytes)> {
        let mut req = axum::http::Request::builder().method(method).uri(target);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Body::from(body)).ok()?;
        let mut app = self.app.clone();
        let response = tower_service::Service::call(&mut app, req)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
            .await
            .ok()?;
        Some((status, bytes))
    }
}

/// The largest answer [`SimService::handle`] collects: a full page of expanded objects is
/// far below it.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

fn app(shared: Arc<Shared>) -> Router {
    router(shared.clone()).layer(from_fn_with_state(shared, gate))
}

impl Simulator {
    /// Starts a simulator on the current tokio runtime, bound to `127.0.0.1` (port
    /// `config.port`, 0 = any free port). The runtime needs its IO and time drivers
    /// (`#[tokio::main]`, `#[tokio::test]` or a builder with `enable_all()`).
    pub fn start(dataset: Dataset, config: SimConfig) -> Result<SimHandle, SimError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| SimError::NoRuntime)?;
        let (shared, listener) = prepare(dataset, config)?;
        let addr = listener.local_addr()?;
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(listener)?
        };
        let (tx, rx) = watch::channel(false);
        let task = rt.spawn(serve(listener, app(shared.clone()), rx));
        Ok(SimHandle {
            addr,
            shared,
            stop: Some(tx),
            task: Some(task),
            thread: None,
        })
    }

    /// Starts a simulator on a thread of its own: [`SimHandle::spawn_thread`].
    pub fn spawn_thread(dataset: Dataset, config: SimConfig) -> Result<SimHandle, SimError> {
        SimHandle::spawn_thread(dataset, config)
    }
}

/// A running simulator. Dropping it (or [`SimHandle::shutdown`]) stops it.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl SimHandle {
    /// Starts a simulator on a thread of its own with its own (single-threaded) runtime, for
    /// synchronous tests and tools.
    pub fn spawn_thread(dataset: Dataset, config: SimConfig) -> Result<SimHandle, SimError> {
        let (shared, listener) = prepare(dataset, config)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let app = app(shared.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("stripe-sim".into())
            .spawn(move || {
                rt.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(l) => {
                            let _ = ready_tx.send(Ok(()));
                            serve(l, app, rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        ready_rx
            .recv()
            .map_err(|_| SimError::Io(io::Error::other("simulator thread died at start")))??;
        Ok(SimHandle {
            addr,
            shared,
            stop: Some(tx),
            task: None,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, for `ClientBuilder::url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key the simulator accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// Every request received so far (the last [`MAX_RECORDED_REQUESTS`]), by ordinal.
    pub fn requests(&self) -> Vec<RequestRecord> {
        let mut v: Vec<RequestRecord> = lock(&self.shared.requests).iter().cloned().collect();
        v.sort_by_key(|r| r.ordinal);
        v
    }

    /// Forgets the recorded requests (ordinals keep counting).
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// The ordinal the next request will get (for [`FaultPlan::at`]).
    pub fn next_ordinal(&self) -> u64 {
        self.shared.ordinal.load(Ordering::SeqCst) + 1
    }

    /// Every transfer created through the API, in creation order.
    pub fn transfers_created(&self) -> Vec<CreatedTransfer> {
        lock(&self.shared.store).created_transfers.clone()
    }

    /// The simulator's clock (unix seconds).
    pub fn now(&self) -> i64 {
        self.shared.now()
    }

    pub fn set_now(&self, now: i64) {
        self.shared.now.store(now, Ordering::SeqCst);
    }

    /// Moves the clock by `secs` (negative moves it back).
    pub fn advance(&self, secs: i64) {
        self.shared.now.fetch_add(secs, Ordering::SeqCst);
    }

    /// Replaces the fault plan (ordinals stay absolute: see [`SimHandle::next_ordinal`]).
    pub fn set_faults(&self, faults: FaultPlan) -> Result<(), SimError> {
        faults.validate()?;
        *lock(&self.shared.faults) = faults;
        Ok(())
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// `None` lifts the limit; `Some(0)` is refused.
    pub fn set_rate_limit(&self, per_second: Option<u32>) -> Result<(), SimError> {
        if per_second == Some(0) {
            return Err(SimError::Config(
                "a rate limit of 0 requests per second would refuse everything".into(),
            ));
        }
        let mut r = lock(&self.shared.rate);
        r.per_second = per_second;
        r.admitted.clear();
        Ok(())
    }

    /// Marks a connected account restricted (transfers inactive) or not; `false` when the
    /// account is unknown.
    pub fn set_account_restricted(&self, account: &str, restricted: bool) -> bool {
        let mut store = lock(&self.shared.store);
        if !store.accounts.contains(account) {
            return false;
        }
        if restricted {
            store.restricted.insert(account.to_string());
        } else {
            store.restricted.remove(account);
        }
        true
    }

    /// Stops the simulator: no new connections; open ones are dropped. For a simulator on
    /// its own thread, waits for the thread to end.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
