//! `closebook-stripe-sim`: serves the simulated Stripe API on 127.0.0.1 until Ctrl-C.
//!
//! Prints the URL on the first line of standard output (for scripts), the rest on standard
//! error.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use closebook_stripe_sim::{DEFAULT_TEST_KEY, Dataset, Mode, SimConfig, Simulator};

#[derive(Debug, Parser)]
#[command(
    name = "closebook-stripe-sim",
    about = "A loopback simulator of the Stripe API subset Closebook uses"
)]
struct Args {
    /// Serve the demo platform's Stripe data (the default when no size is given).
    #[arg(long, conflicts_with_all = ["postings", "seed"])]
    demo: bool,
    /// Serve a generated platform of about this many ledger postings.
    #[arg(long)]
    postings: Option<u64>,
    /// The generator's seed (with --postings).
    #[arg(long, default_value_t = 1, requires = "postings")]
    seed: u64,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests admitted per sliding second (the others get 429).
    #[arg(long)]
    rate_limit: Option<u32>,
    /// test or live.
    #[arg(long, default_value = "test", value_parser = ["test", "live"])]
    mode: String,
    /// The API key to accept (default: the simulator's test key in test mode).
    #[arg(long, env = "CLOSEBOOK_STRIPE_SIM_KEY", hide_env_values = true)]
    key: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mode = if args.mode == "live" {
        Mode::Live
    } else {
        Mode::Test
    };
    let key = match (&args.key, mode) {
        (Some(k), _) => k.clone(),
        (None, Mode::Test) => DEFAULT_TEST_KEY.to_string(),
        (None, Mode::Live) => {
            eprintln!("error: live mode needs --key sk_live_… (or rk_live_…)");
            return ExitCode::from(2);
        }
    };
    let dataset = match args.postings {
        Some(n) => Dataset::scale(n, args.seed),
        None => Dataset::demo(),
    };
    let mut config = SimConfig::new(mode, key)
        .with_port(args.port)
        .with_latency(Duration::from_millis(args.latency_ms));
    config.rate_limit = args.rate_limit;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let lines = dataset.activity.len();
        let accounts = dataset.accounts.len();
        let sim = match Simulator::start(dataset, config) {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("{}", sim.url());
        let shown_key = if args.key.is_none() {
            format!(" with key {DEFAULT_TEST_KEY}")
        } else {
            String::new()
        };
        eprintln!(
            "closebook-stripe-sim: {mode:?} mode{shown_key}, {lines} balance transactions, \
             {accounts} connected accounts, clock at {}; Ctrl-C stops",
            sim.now()
        );
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {e}");
        }
        sim.shutdown();
        ExitCode::SUCCESS
    })
}
