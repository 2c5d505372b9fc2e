//! The demo workspace's Stripe: the Stripe simulator on a loopback port, serving the demo
//! platform's Stripe side (`fixtures/demo`), started at the demo's first sync. Its key is
//! the simulator's fixed test key: nothing secret, and it opens nothing but the simulator.

pub use closebook_stripe_sim::SimHandle as Simulator;
use closebook_stripe_sim::{Dataset, SimConfig, SimError};

/// The key the demo syncs with.
pub const KEY: &str = closebook_stripe_sim::DEFAULT_TEST_KEY;

/// Starts the simulator on its own thread, its clock at the demo's last Stripe activity.
pub fn start() -> Result<Simulator, SimError> {
    let dataset = Dataset::demo();
    let now = dataset.suggested_now();
    closebook_stripe_sim::Simulator::spawn_thread(dataset, SimConfig::test().with_now(now))
}
