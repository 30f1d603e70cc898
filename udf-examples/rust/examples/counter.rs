//! Weir's keyed-state example in Rust, with the Rust SDK (sdk/rust): the twin of
//! udf-examples/go/counter's count, which gives byte for byte the same outputs
//! (udf-examples/README.md, "The counter functions", defines it).
//!
//!   count  process  a running count per key, in the value state "count"
//!
//! Built as a cdylib example of the orders crate:
//! `cargo build --release --target wasm32-unknown-unknown --example counter`.

use weir::json::{self, Kind};
use weir::{Context, Process, Record, Result, States, ValueState};

struct Count {
    /// The count of each key: an i64, 8 bytes little endian, in Weir's keyed
    /// state (so it survives failover, unlike a field of this struct).
    counts: ValueState,
    /// The job's execution attempt, read once in open.
    attempt: i64,
}

impl Process for Count {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        self.attempt = weir::task_info()?.attempt;
        Ok(())
    }

    fn process(&mut self, r: &Record, ctx: &mut Context) -> Result<()> {
        let n = self.counts.get_i64(ctx)?.unwrap_or(0) + 1;
        self.counts.put_i64(ctx, n)?;
        let p = r.payload();
        let key = json::get(p, "key").map_or(&b"null"[..], |(raw, _)| raw);
        let seq = match json::get(p, "seq") {
            Some((raw, Kind::Number)) => raw,
            _ => b"null",
        };
        let b = ctx.emit().payload_mut(); // reused from record to record
        b.extend_from_slice(b"{\"key\":");
        b.extend_from_slice(key);
        b.extend_from_slice(b",\"seq\":");
        b.extend_from_slice(seq);
        b.extend_from_slice(b",\"count\":");
        json::append_i64(b, n);
        b.extend_from_slice(b",\"attempt\":");
        json::append_i64(b, self.attempt);
        b.push(b'}');
        Ok(())
    }
}

fn register(m: &mut weir::Module) {
    let mut states = States::new();
    // The name maps the state in checkpoints: renaming it loses the counts.
    let counts = states.value("count", 0);
    m.process("count", states, Count { counts, attempt: 0 });
}

weir::export!(register);
