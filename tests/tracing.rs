//! The `tracing` spans a bridge records: one per script (id, name, outcome) nested under the
//! caller's span, one per call (function, outcome, duration) nested under its script's, with the
//! function's own events inside it.
//!
//! One test: it installs the process-wide subscriber (engine and worker threads have no
//! thread-local one).

use bridge_runtime::{script_async, Bridge};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[script_async]
async fn traced_lookup(id: i64) -> Result<i64, String> {
    tracing::info!(id, "looking up");
    tokio::time::sleep(Duration::from_millis(5)).await;
    if id < 0 {
        return Err("negative".into());
    }
    Ok(id)
}

/// A closed span as the test sees it.
#[derive(Clone, Debug, Default)]
struct SpanRecord {
    name: String,
    parent: Option<String>,
    fields: HashMap<String, String>,
    events: Vec<String>,
}

#[derive(Clone, Default)]
struct Recorder {
    open: Arc<Mutex<HashMap<u64, SpanRecord>>>,
    closed: Arc<Mutex<Vec<SpanRecord>>>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut record = SpanRecord {
            name: attrs.metadata().name().to_owned(),
            parent: ctx
                .span(id)
                .and_then(|span| span.parent())
                .map(|parent| parent.name().to_owned()),
            ..SpanRecord::default()
        };
        attrs.record(&mut Fields(&mut record.fields));
        self.open.lock().unwrap().insert(id.into_u64(), record);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(record) = self.open.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut record.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        if let Some(record) = self.open.lock().unwrap().get_mut(&span.id().into_u64()) {
            record
                .events
                .push(fields.remove("message").unwrap_or_default());
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        if let Some(record) = self.open.lock().unwrap().remove(&id.into_u64()) {
            self.closed.lock().unwrap().push(record);
        }
    }
}

#[test]
fn scripts_and_calls_are_spans_nested_under_the_caller() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let bridge = Bridge::new().unwrap();
    let request = tracing::info_span!("request");
    let value = request.in_scope(|| {
        bridge
            .script("traced_lookup(1) + traced_lookup(2)")
            .name("nightly-report")
            .run()
            .unwrap()
    });
    assert_eq!(value, 3);
    let error = bridge.run("traced_lookup(-1)").unwrap_err();
    assert!(error.to_string().contains("negative"), "{error}");
    drop(request);
    drop(bridge);

    let closed = recorder.closed.lock().unwrap().clone();
    let scripts: Vec<&SpanRecord> = closed.iter().filter(|s| s.name == "script").collect();
    let named = scripts
        .iter()
        .find(|s| s.fields.get("name").map(String::as_str) == Some("nightly-report"))
        .expect("the named script's span");
    assert_eq!(named.parent.as_deref(), Some("request"));
    assert_eq!(named.fields["outcome"], "ok");
    assert!(named.fields.contains_key("id"));
    let failed = scripts
        .iter()
        .find(|s| s.fields.get("outcome").map(String::as_str) == Some("call"))
        .expect("the failed script's span");
    assert_eq!(failed.parent, None);

    let calls: Vec<&SpanRecord> = closed.iter().filter(|s| s.name == "call").collect();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    for call in &calls {
        assert_eq!(call.fields["function"], "traced_lookup");
        assert_eq!(call.parent.as_deref(), Some("script"));
        let micros: u64 = call.fields["duration_us"].parse().unwrap();
        assert!(micros >= 4_000, "a 5 ms call took {micros} µs");
        assert_eq!(
            call.events,
            ["looking up"],
            "the function's event is inside its call"
        );
    }
    let outcomes: Vec<&str> = calls.iter().map(|c| c.fields["outcome"].as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "ok").count(),
        2,
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&"error"), "{outcomes:?}");
}
