//! A batching, non-blocking log writer.
//!
//! tracing-appender's non-blocking writer sends every line through a channel and wakes its
//! worker once per line: on a busy core that is a context switch per request, which measured
//! as the largest cost of the whole pipeline (docs/benchmarks.md). Here a line is appended to a
//! shared buffer under an uncontended mutex; the writer thread wakes every 50 ms, or as soon as
//! 64 KiB are waiting, and writes everything in one call. Nothing is dropped: past 16 MiB of
//! backlog a logging thread waits for the writer (backpressure) instead of losing lines.
//! Dropping the [`BatchGuard`] flushes what is left.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
const FLUSH_AT_BYTES: usize = 64 * 1024;
const BACKPRESSURE_AT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signals the writer thread: enough is pending, or closing.
    wake_writer: Condvar,
    /// Signals loggers waiting under backpressure: the writer drained the buffer.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the buffer inconsistent (appends are
        // whole lines), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The `MakeWriter` handed to the JSON log layer.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Flushes and stops the writer thread when dropped.
pub struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for BatchGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchGuard")
    }
}

impl BatchWriter {
    /// Starts the writer thread over `out`.
    pub fn new<W: Write + Send + 'static>(mut out: W) -> io::Result<(Self, BatchGuard)> {
        let shared = Arc::new(Shared::default());
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("rampart-log-writer".to_owned())
            .spawn(move || {
                let mut spare = Vec::new();
                loop {
                    let mut state = worker.lock();
                    if state.pending.is_empty() && !state.closed {
                        state = match worker.wake_writer.wait_timeout(state, FLUSH_INTERVAL) {
                            Ok((state, _)) => state,
                            Err(poisoned) => poisoned.into_inner().0,
                        };
                    }
                    std::mem::swap(&mut state.pending, &mut spare);
                    let closed = state.closed;
                    drop(state);
                    worker.drained.notify_all();
                    if !spare.is_empty() {
                        // A failing stdout cannot be reported anywhere better than by dropping the batch.
                        let _ = out.write_all(&spare);
                        let _ = out.flush();
                        spare.clear();
                    }
                    if closed {
                        let rest = std::mem::take(&mut worker.lock().pending);
                        let _ = out.write_all(&rest);
                        let _ = out.flush();
                        return;
                    }
                }
            })?;
        Ok((
            Self {
                shared: shared.clone(),
            },
            BatchGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Write for &BatchWriter {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut state = self.shared.lock();
        while state.pending.len() >= BACKPRESSURE_AT_BYTES && !state.closed {
            self.shared.wake_writer.notify_one();
            state = match self.shared.drained.wait(state) {
                Ok(state) => state,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
        let was_below = state.pending.len() < FLUSH_AT_BYTES;
        state.pending.extend_from_slice(line);
        let crossed = was_below && state.pending.len() >= FLUSH_AT_BYTES;
        drop(state);
        if crossed {
            self.shared.wake_writer.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = &'a BatchWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake_writer.notify_one();
        self.shared.drained.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map(|mut v| v.extend_from_slice(buf))
                .map_err(|_| io::Error::other("poisoned"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_arrives_in_order_and_the_guard_flushes() {
        let sink = Sink::default();
        let Ok((writer, guard)) = BatchWriter::new(sink.clone()) else {
            panic!("thread")
        };
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        let _ = (&writer).write_all(format!("{t}:{i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for thread in threads {
            let _ = thread.join();
        }
        drop(guard);
        let text = sink
            .0
            .lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000);
        for t in 0..4 {
            let mine: Vec<usize> = lines
                .iter()
                .filter_map(|l| {
                    l.split_once(':')
                        .filter(|(a, _)| *a == t.to_string())
                        .and_then(|(_, i)| i.parse().ok())
                })
                .collect();
            assert_eq!(
                mine,
                (0..5000).collect::<Vec<_>>(),
                "thread {t} lines in order"
            );
        }
    }
}
