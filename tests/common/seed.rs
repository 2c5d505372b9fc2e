//! Seed 004's month (`fixtures/seed-example`) in a workspace whose Stripe side is the
//! simulator: the shared set-up of the payout and report tests.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::payouts::PayoutError;
use closebook_engine::payouts::batch;
use closebook_engine::payouts::execute::{self, ExecuteControl, ExecuteOptions, ExecuteProgress};
use closebook_engine::payouts::people::{self, Role, Signer};
use closebook_engine::stripe::{self, StripeKey, SyncControl};
use closebook_engine::workspace::Mode;
use closebook_engine::{OpContext, demo};
use closebook_generate::{AccountLine, StripeActivity};
use closebook_stripe_sim::{Dataset, SimConfig, SimHandle, Simulator};
use jiff::Timestamp;

use super::{TestWorkspace, repo_root, workspace};

/// 2025-01-02T09:00:00Z: after seed 004's month (2024-12) closed.
pub fn now() -> Timestamp {
    "2025-01-02T09:00:00Z".parse().unwrap()
}

pub fn op(at: Timestamp) -> OpContext {
    OpContext::new("os:tester", at)
}

/// Stripe's side of the seed example: each subscription charge (no Stripe fee, as in the
/// seed), and the five creators' connected accounts.
pub fn seed_dataset() -> Dataset {
    let mut activity = Vec::new();
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/seed-example/ledger.csv")).unwrap();
    // id,entry_id,account,amount_minor,currency,entry_type,stripe_object_id,event_id,livemode,created_at,description
    for (i, line) in text.lines().skip(1).enumerate() {
        let rec: Vec<&str> = line.split(',').collect();
        if rec[2] != "assets:stripe:payments" {
            continue;
        }
        let at: Timestamp = rec[9].parse().unwrap();
        let amount: i64 = rec[3].parse().unwrap();
        activity.push(StripeActivity {
            id: format!("txn_seed004_{i:03}"),
            kind: "charge".into(),
            reporting_category: "charge".into(),
            source: rec[6].to_string(),
            amount,
            fee: 0,
            net: amount,
            currency: "usd".into(),
            created: at.as_second(),
            available_on: at.as_second(),
            destination: None,
            event_id: rec[7].to_string(),
            event_type: "charge.succeeded".into(),
            charge: None,
            payout: None,
        });
    }
    let accounts = (1..=5)
        .map(|i| AccountLine {
            author_id: format!("c{i}"),
            stripe_account_id: format!("acct_seed004c{i}"),
            created_at: "2024-11-01T00:00:00Z".into(),
        })
        .collect();
    Dataset { activity, accounts }
}

pub fn sim(config: impl FnOnce(SimConfig) -> SimConfig) -> SimHandle {
    Simulator::spawn_thread(
        seed_dataset(),
        config(SimConfig::test().with_now(now().as_second())),
    )
    .expect("simulator")
}

pub fn key() -> StripeKey {
    StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY).unwrap()
}

pub fn sync(t: &mut TestWorkspace, sim: &SimHandle) {
    sync_at(t, sim, now());
}

/// A Stripe sync as of `at`.
pub fn sync_at(t: &mut TestWorkspace, sim: &SimHandle, at: Timestamp) {
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    stripe::sync(
        &mut t.ws,
        &key(),
        &demo::sync_options(&sim.url()),
        &op(at),
        &mut control,
    )
    .expect("sync");
}

pub struct Seed {
    pub t: TestWorkspace,
    pub sim: SimHandle,
}

impl Seed {
    pub fn new() -> Seed {
        Seed::with(|c| c)
    }

    pub fn with(config: impl FnOnce(SimConfig) -> SimConfig) -> Seed {
        let mut t = workspace(Mode::Test);
        for (kind, name) in [
            (Kind::Accounts, "accounts.csv"),
            (Kind::Ledger, "ledger.csv"),
            (Kind::Balances, "balances.csv"),
            (Kind::Allocations, "allocations.csv"),
        ] {
            let path = repo_root().join("fixtures/seed-example").join(name);
            ingest::import_file(&mut t.ws, kind, &path, Some(Format::Csv), &op(now())).unwrap();
        }
        let sim = sim(config);
        sync(&mut t, &sim);
        for (i, (name, role)) in [
            ("Pat Preparer", Role::Preparer),
            ("Avery Approver", Role::Approver),
            ("Sam Second", Role::Approver),
            ("Ada Auditor", Role::Auditor),
            ("Kim Admin", Role::Admin),
        ]
        .into_iter()
        .enumerate()
        {
            // The first people are added before the roster has an admin.
            people::add(
                &t.ws,
                &t.secrets,
                name,
                role,
                [i as u8 + 1; 32],
                None,
                &op(now()),
            )
            .unwrap();
        }
        Seed { t, sim }
    }

    pub fn signer(&self, name: &str) -> Signer {
        signer(&self.t, name)
    }

    pub fn prepare(&self) -> batch::Batch {
        batch::prepare(
            &self.t.ws,
            &self.signer("Pat Preparer"),
            "2024-12",
            None,
            &op(now()),
        )
        .unwrap()
    }

    pub fn execute(&self, id: &str) -> Result<execute::ExecuteReport, PayoutError> {
        self.execute_as("Pat Preparer", id)
    }

    pub fn execute_as(&self, who: &str, id: &str) -> Result<execute::ExecuteReport, PayoutError> {
        let cancel = AtomicBool::new(false);
        let mut progress = |_: &ExecuteProgress| {};
        let mut control = ExecuteControl {
            progress: &mut progress,
            cancel: &cancel,
        };
        let mut options = ExecuteOptions::new(&self.sim.url(), false);
        options.limits.requests_per_second = 1_000;
        options.limits.min_backoff = Duration::from_millis(5);
        options.limits.max_backoff = Duration::from_millis(20);
        options.limits.timeout = Duration::from_secs(2);
        execute::execute(
            &self.t.ws,
            &self.signer(who),
            &key(),
            id,
            &options,
            &op(now()),
            &mut control,
        )
    }
}

pub fn signer(t: &TestWorkspace, name: &str) -> Signer {
    people::authenticate(&t.ws, &t.secrets, name).unwrap()
}
