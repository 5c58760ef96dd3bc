//! Tenants share a bridge fairly: one tenant's many scripts neither take every place in the queue
//! nor every turn on an engine thread.

use bridge_runtime::{script_async, Bridge, Error};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[test]
fn a_tenants_script_gets_turns_beside_another_tenants_busy_scripts() {
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    let busy: Vec<_> = (0..50)
        .map(|_| {
            bridge
                .script("loop {}")
                .tenant("hog")
                .timeout(Duration::from_secs(5))
                .spawn()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    // Some twenty time slices of work: without turns by tenant, each waits for all 50 others.
    let out = bridge
        .script("let x = 0; for i in 0..400000 { x += i % 7 } x")
        .tenant("polite")
        .run()
        .unwrap();
    let took = started.elapsed();
    assert!(out.as_i64().unwrap() > 0);
    assert!(took < Duration::from_millis(1500), "{took:?}");
    for script in &busy {
        script.cancel();
    }
    for script in busy {
        let ended = script.join();
        assert!(matches!(ended, Err(Error::Cancelled)), "{ended:?}");
    }
}

/// How many endless scripts of `a_stopped_script_ends_without_waiting_for_its_tenants_turn`
/// have started.
static HOGS_STARTED: AtomicUsize = AtomicUsize::new(0);

#[script_async]
async fn hog_started() {
    HOGS_STARTED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_stopped_script_ends_without_waiting_for_its_tenants_turn() {
    const HOGS: usize = 1000;
    let bridge = Bridge::builder().max_engine_threads(1).build().unwrap();
    let busy: Vec<_> = (0..HOGS)
        .map(|_| {
            bridge
                .script("hog_started(); loop {}")
                .tenant("hog")
                .timeout(Duration::from_secs(60))
                .spawn()
        })
        .collect();
    let waiting = Instant::now();
    while HOGS_STARTED.load(Ordering::SeqCst) < HOGS {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the hogs never all started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // One turn per pass for the tenant, a 1 ms slice each: waiting for their turns, the last of
    // these would end about a second from now (1,000 turns); told to stop, each ends at the
    // next pass, within a few milliseconds.
    let started = Instant::now();
    for script in busy.iter().step_by(HOGS / 10) {
        script.cancel();
    }
    let (stopped, others): (Vec<_>, Vec<_>) = busy
        .into_iter()
        .enumerate()
        .partition(|(index, _)| index % (HOGS / 10) == 0);
    for (_, script) in stopped {
        assert!(matches!(script.join(), Err(Error::Cancelled)));
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(400), "{took:?}");
    for (_, script) in &others {
        script.cancel();
    }
    for (_, script) in others {
        assert!(matches!(script.join(), Err(Error::Cancelled)));
    }
}

#[test]
fn queued_scripts_are_taken_round_the_tenants() {
    let bridge = Bridge::builder().max_concurrent_scripts(2).build().unwrap();
    let queued: Vec<_> = (0..20)
        .map(|_| bridge.script("sleep(0.05); 1").tenant("hog").spawn())
        .collect();
    let started = Instant::now();
    assert_eq!(bridge.script("2").tenant("polite").run().unwrap(), 2);
    // First in, first out it would wait for all twenty (half a second); round the tenants, one.
    let took = started.elapsed();
    assert!(took < Duration::from_millis(300), "{took:?}");
    for script in queued {
        assert_eq!(script.join().unwrap(), 1);
    }
}

#[test]
fn a_cap_of_zero_scripts_per_tenant_fails_build() {
    let error = Bridge::builder()
        .max_scripts_per_tenant(0)
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("max_scripts_per_tenant(0)"),
        "{error}"
    );
}
