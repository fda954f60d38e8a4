//! The one writer of a call's Twilio media socket.
//!
//! Everything Otto sends to Twilio goes through [`Outbound`]: control messages (`clear`) on
//! one channel, audio and marks on another, bounded. The writer task always prefers control,
//! so `clear` never waits behind queued audio ("control before audio"). Audio and marks carry
//! the playback epoch current when they were queued; `clear` starts a new epoch, and the writer
//! drops anything queued under an older one, so cancelled audio never reaches the caller after
//! its `clear`. Messages already queued when the writer wakes are written together and
//! flushed once, so a burst of TTS audio costs one system call rather than one per frame.
//!
//! A frame queued with [`Outbound::audio_reporting`] reports the instant the socket took it
//! (after the flush of its batch), which is how a turn's `first_frame_sent` is measured; a
//! frame dropped by a `clear` or a closed socket reports nothing (its sender is dropped).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::{Sink, SinkExt};
use otto_twilio::StreamSid;
use otto_twilio::media::ToTwilio;
use tokio::sync::{mpsc, oneshot};

/// Audio frames (20 ms each) and marks that may wait for the socket: 10 s of audio.
pub const AUDIO_QUEUE: usize = 512;

/// An item on the audio channel.
enum Media {
    Audio {
        epoch: u64,
        frame: Vec<u8>,
        written: Option<oneshot::Sender<Instant>>,
    },
    Mark {
        epoch: u64,
        name: String,
    },
}

/// A control message.
enum Control {
    Clear { epoch: u64 },
}

/// Why an item could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The audio queue is full (the socket is not keeping up); the frame was dropped.
    #[error("outbound audio queue is full")]
    Full,
    /// The writer has stopped (the socket closed).
    #[error("the media socket is closed")]
    Closed,
}

/// The sending side, owned by the call runner.
pub struct Outbound {
    media: mpsc::Sender<Media>,
    control: mpsc::UnboundedSender<Control>,
    epoch: Arc<AtomicU64>,
}

impl Outbound {
    /// Queues one μ-law frame. Never waits.
    ///
    /// # Errors
    /// [`OutboundError::Full`] or [`OutboundError::Closed`].
    pub fn audio(&self, frame: Vec<u8>) -> Result<(), OutboundError> {
        self.queue_audio(frame, None)
    }

    /// Queues one μ-law frame like [`Outbound::audio`]; `written` receives the instant the
    /// socket took it (flushed), or is dropped when the frame never reaches the socket.
    ///
    /// # Errors
    /// As [`Outbound::audio`].
    pub fn audio_reporting(
        &self,
        frame: Vec<u8>,
        written: oneshot::Sender<Instant>,
    ) -> Result<(), OutboundError> {
        self.queue_audio(frame, Some(written))
    }

    fn queue_audio(
        &self,
        frame: Vec<u8>,
        written: Option<oneshot::Sender<Instant>>,
    ) -> Result<(), OutboundError> {
        let epoch = self.epoch.load(Ordering::Acquire);
        self.media
            .try_send(Media::Audio {
                epoch,
                frame,
                written,
            })
            .map_err(map_try)
    }

    /// Queues a mark after the audio queued so far. Never waits.
    ///
    /// # Errors
    /// [`OutboundError::Full`] or [`OutboundError::Closed`].
    pub fn mark(&self, name: String) -> Result<(), OutboundError> {
        let epoch = self.epoch.load(Ordering::Acquire);
        self.media
            .try_send(Media::Mark { epoch, name })
            .map_err(map_try)
    }

    /// Sends `clear` ahead of any queued audio and discards that audio.
    ///
    /// # Errors
    /// [`OutboundError::Closed`].
    pub fn clear(&self) -> Result<(), OutboundError> {
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        self.control
            .send(Control::Clear { epoch })
            .map_err(|_| OutboundError::Closed)
    }
}

fn map_try<T>(e: mpsc::error::TrySendError<T>) -> OutboundError {
    match e {
        mpsc::error::TrySendError::Full(_) => OutboundError::Full,
        mpsc::error::TrySendError::Closed(_) => OutboundError::Closed,
    }
}

/// Messages written between two flushes of the socket at most.
const MAX_BATCH: usize = 64;

/// What the writer sends next.
enum Next {
    Clear,
    Media(Vec<u8>, Option<oneshot::Sender<Instant>>),
    Mark(String),
}

impl Next {
    /// The message's JSON, and whom to tell once it is written.
    fn into_json(self, stream_sid: &StreamSid) -> (String, Option<oneshot::Sender<Instant>>) {
        let stream_sid = stream_sid.clone();
        let mut written = None;
        let message = match self {
            Next::Clear => ToTwilio::Clear { stream_sid },
            Next::Media(payload, report) => {
                written = report;
                ToTwilio::Media {
                    stream_sid,
                    payload,
                }
            }
            Next::Mark(name) => ToTwilio::Mark { stream_sid, name },
        }
        .to_json();
        (message, written)
    }
}

/// The next message to write: `clear` before any audio, and nothing queued under a playback
/// epoch older than the last `clear`. Waits for one when `wait`, else returns `None` at once
/// when nothing is queued; `None` also when every sender is gone.
async fn next(
    control: &mut mpsc::UnboundedReceiver<Control>,
    media: &mut mpsc::Receiver<Media>,
    current: &mut u64,
    wait: bool,
) -> Option<Next> {
    loop {
        let item = if wait {
            tokio::select! {
                biased;
                Some(Control::Clear { epoch }) = control.recv() => Err(epoch),
                item = media.recv() => Ok(item?),
            }
        } else if let Ok(Control::Clear { epoch }) = control.try_recv() {
            Err(epoch)
        } else {
            Ok(media.try_recv().ok()?)
        };
        match item {
            Err(epoch) => {
                *current = (*current).max(epoch);
                return Some(Next::Clear);
            }
            Ok(Media::Audio {
                epoch,
                frame,
                written,
            }) if epoch >= *current => {
                return Some(Next::Media(frame, written));
            }
            Ok(Media::Mark { epoch, name }) if epoch >= *current => return Some(Next::Mark(name)),
            Ok(_) => {} // queued before the last clear
        }
    }
}

/// Creates the outbound channels and the writer future, which runs until the socket fails or
/// every [`Outbound`] is dropped, then closes the socket (a WebSocket close handshake). The writer encodes messages as Twilio JSON text frames with
/// `make_text` (e.g. `|s| axum::extract::ws::Message::Text(s.into())`).
pub fn channel<S, M, F>(
    stream_sid: StreamSid,
    mut sink: S,
    make_text: F,
) -> (Outbound, impl Future<Output = ()> + Send)
where
    S: Sink<M> + Unpin + Send,
    M: Send,
    F: Fn(String) -> M + Send,
{
    let (media_tx, mut media_rx) = mpsc::channel(AUDIO_QUEUE);
    let (control_tx, mut control_rx) = mpsc::unbounded_channel();
    let epoch = Arc::new(AtomicU64::new(0));
    let outbound = Outbound {
        media: media_tx,
        control: control_tx,
        epoch: epoch.clone(),
    };
    let writer = async move {
        let mut current = 0;
        'socket: loop {
            // Wait for one message, then write it and whatever else is already queued with a
            // single flush: under load a burst of frames costs one system call, not one each.
            let Some(first) = next(&mut control_rx, &mut media_rx, &mut current, true).await else {
                break;
            };
            // A message is taken off the queues only when it will be fed in this batch.
            let mut message = Some(first);
            let mut fed = 0;
            let mut reports = Vec::new();
            while let Some(m) = message.take() {
                let (json, written) = m.into_json(&stream_sid);
                if sink.feed(make_text(json)).await.is_err() {
                    break 'socket;
                }
                reports.extend(written);
                fed += 1;
                if fed < MAX_BATCH {
                    message = next(&mut control_rx, &mut media_rx, &mut current, false).await;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
            let now = Instant::now();
            for r in reports {
                let _ = r.send(now); // the runner may have moved on
            }
        }
        // Every sender is gone (the call ended) or the socket failed: close it properly.
        let _ = sink.close().await;
    };
    (outbound, writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_longer_than_a_batch_reaches_the_socket_whole() {
        let mut sent: Vec<String> = Vec::new();
        let (outbound, writer) = channel(StreamSid::random(), &mut sent, |s| s);
        let frames = 3 * MAX_BATCH + 5;
        for _ in 0..frames {
            outbound.audio(vec![0xFF; 160]).unwrap();
        }
        outbound.mark("end".into()).unwrap();
        drop(outbound);
        writer.await;
        assert_eq!(sent.len(), frames + 1, "every frame and the mark");
        assert!(sent.last().unwrap().contains("\"mark\""));
    }

    #[tokio::test]
    async fn a_reporting_frame_reports_when_the_socket_takes_it_not_when_queued() {
        // A socket that takes one message and then waits for the far end to read.
        let (socket_tx, mut socket_rx) = mpsc::channel::<String>(1);
        let sink = tokio_util::sync::PollSender::new(socket_tx);
        let (outbound, writer) = channel(StreamSid::random(), sink, |s| s);
        for _ in 0..4 {
            outbound.audio(vec![0xFF; 160]).unwrap();
        }
        let (tx, mut written) = oneshot::channel();
        outbound.audio_reporting(vec![0x7F; 160], tx).unwrap();
        let writer = tokio::spawn(writer);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            written.try_recv().is_err(),
            "queued behind a socket that is not taking frames: not written yet"
        );
        let read_from = Instant::now();
        let mut read = 0;
        while read < 5 {
            socket_rx.recv().await.unwrap();
            read += 1;
        }
        let at = written.await.expect("reported once written");
        assert!(at >= read_from, "reported after the socket took it");

        // A reporting frame cancelled by `clear` before it is written reports nothing.
        let (tx, written) = oneshot::channel();
        let (outbound2, writer2) = channel(StreamSid::random(), Vec::<String>::new(), |s| s);
        outbound2.audio_reporting(vec![0x7F; 160], tx).unwrap();
        outbound2.clear().unwrap();
        drop(outbound2);
        writer2.await;
        assert!(written.await.is_err(), "dropped with its frame");
        drop(outbound);
        let _ = writer.await;
    }
}
