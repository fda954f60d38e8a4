//! Live-call sessions in Redis, shared by every Otto instance and the dashboard.
//!
//! Layout (prefix `otto:` by default): one hash `{prefix}call:{call_sid}` per call, with a TTL
//! refreshed on every write (a crashed instance's calls disappear on their own), and a sorted set
//! `{prefix}calls` of call SIDs scored by start time in ms. Updates run as one Lua script, so
//! they are atomic and never resurrect a removed call. Every command has a deadline; the
//! connection manager reconnects after Redis comes back.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use super::{CallPhase, LiveCall, SessionError, SessionStore, SessionUpdate};

const UPDATE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'phase', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'customer_id', ARGV[2]) end
redis.call('HINCRBY', KEYS[1], 'turns', ARGV[3])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
";

/// Sessions in Redis. Cheap to clone the inner connection; one per process.
pub struct RedisSessions {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    prefix: String,
    ttl_secs: u64,
    timeout: Duration,
}

impl RedisSessions {
    /// A store for `url` (`redis://[:password@]host:port[/db]`). Connects lazily, so Otto starts
    /// even while Redis is down.
    ///
    /// `ttl_secs`: how long a call's record lives after its last write (≥ 1).
    /// `timeout_ms`: deadline of each command (≥ 1).
    ///
    /// # Errors
    /// A malformed URL.
    pub fn new(url: &str, ttl_secs: u64, timeout_ms: u64) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("redis_url is not a valid Redis URL: {e}"))?;
        Ok(Self {
            client,
            conn: OnceCell::new(),
            prefix: "otto:".into(),
            ttl_secs: ttl_secs.max(1),
            timeout: Duration::from_millis(timeout_ms.max(1)),
        })
    }

    /// Uses `prefix` for every key instead of `otto:` (tests share one Redis).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn call_key(&self, call_sid: &str) -> String {
        format!("{}call:{call_sid}", self.prefix)
    }

    fn index_key(&self) -> String {
        format!("{}calls", self.prefix)
    }

    fn timeout_ms(&self) -> u64 {
        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)
    }

    async fn conn(&self) -> Result<ConnectionManager, SessionError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let fut = self
            .conn
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config));
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(c)) => Ok(c.clone()),
            Ok(Err(e)) => Err(SessionError::Unavailable(e.to_string())),
            Err(_) => Err(SessionError::Timeout(self.timeout_ms())),
        }
    }

    /// Runs one Redis operation under the deadline.
    async fn run<T, F>(&self, op: F) -> Result<T, SessionError>
    where
        F: AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    {
        let conn = self.conn().await?;
        match tokio::time::timeout(self.timeout, op(conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(SessionError::Unavailable(e.to_string())),
            Err(_) => Err(SessionError::Timeout(self.timeout_ms())),
        }
    }
}

fn phase_name(p: CallPhase) -> &'static str {
    match p {
        CallPhase::Connecting => "connecting",
        CallPhase::Listening => "listening",
        CallPhase::Speaking => "speaking",
        CallPhase::Ending => "ending",
    }
}

fn parse_phase(s: &str) -> Option<CallPhase> {
    Some(match s {
        "connecting" => CallPhase::Connecting,
        "listening" => CallPhase::Listening,
        "speaking" => CallPhase::Speaking,
        "ending" => CallPhase::Ending,
        _ => return None,
    })
}

fn from_hash(call_sid: &str, h: &HashMap<String, String>) -> Result<LiveCall, SessionError> {
    let corrupt = |reason: &str| SessionError::Corrupt {
        call_sid: call_sid.to_string(),
        reason: reason.to_string(),
    };
    let field = |name: &str| {
        h.get(name)
            .ok_or_else(|| corrupt(&format!("missing {name}")))
    };
    let time = |name: &str| -> Result<DateTime<Utc>, SessionError> {
        DateTime::parse_from_rfc3339(field(name)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| corrupt(&format!("bad {name}")))
    };
    let customer_id = match h.get("customer_id").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(s.parse().map_err(|_| corrupt("bad customer_id"))?),
    };
    Ok(LiveCall {
        call_sid: call_sid.to_string(),
        from: field("from")?.clone(),
        to: field("to")?.clone(),
        customer_id,
        instance: field("instance")?.clone(),
        phase: parse_phase(field("phase")?).ok_or_else(|| corrupt("bad phase"))?,
        turns: field("turns")?.parse().map_err(|_| corrupt("bad turns"))?,
        started_at: time("started_at")?,
        updated_at: time("updated_at")?,
    })
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn put(&self, call: &LiveCall) -> Result<(), SessionError> {
        let key = self.call_key(&call.call_sid);
        let fields: Vec<(&str, String)> = vec![
            ("from", call.from.clone()),
            ("to", call.to.clone()),
            (
                "customer_id",
                call.customer_id.map(|c| c.to_string()).unwrap_or_default(),
            ),
            ("instance", call.instance.clone()),
            ("phase", phase_name(call.phase).into()),
            ("turns", call.turns.to_string()),
            ("started_at", call.started_at.to_rfc3339()),
            ("updated_at", call.updated_at.to_rfc3339()),
        ];
        let index = self.index_key();
        let ttl = i64::try_from(self.ttl_secs).unwrap_or(i64::MAX);
        let score = call.started_at.timestamp_millis();
        let sid = call.call_sid.clone();
        self.run(async move |mut c| {
            redis::pipe()
                .atomic()
                .del(&key)
                .hset_multiple(&key, &fields)
                .expire(&key, ttl)
                .zadd(&index, &sid, score)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    async fn update(
        &self,
        call_sid: &str,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        let key = self.call_key(call_sid);
        let phase = update.phase.map(phase_name).unwrap_or_default();
        let customer = update
            .customer_id
            .map(|c| c.to_string())
            .unwrap_or_default();
        let add = update.add_turns;
        let ttl = self.ttl_secs;
        self.run(async move |mut c| {
            redis::Script::new(UPDATE_SCRIPT)
                .key(&key)
                .arg(phase)
                .arg(customer)
                .arg(add)
                .arg(now.to_rfc3339())
                .arg(ttl)
                .invoke_async::<i64>(&mut c)
                .await
                .map(|_| ())
        })
        .await
    }

    async fn remove(&self, call_sid: &str) -> Result<(), SessionError> {
        let key = self.call_key(call_sid);
        let index = self.index_key();
        let sid = call_sid.to_string();
        self.run(async move |mut c| {
            redis::pipe()
                .atomic()
                .del(&key)
                .zrem(&index, &sid)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    async fn get(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError> {
        let key = self.call_key(call_sid);
        let h: HashMap<String, String> = self.run(async move |mut c| c.hgetall(&key).await).await?;
        if h.is_empty() {
            return Ok(None);
        }
        from_hash(call_sid, &h).map(Some)
    }

    async fn list(&self) -> Result<Vec<LiveCall>, SessionError> {
        let index = self.index_key();
        let sids: Vec<String> = self
            .run(async move |mut c| c.zrange(&index, 0, -1).await)
            .await?;
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = sids.iter().map(|s| self.call_key(s)).collect();
        let hashes: Vec<HashMap<String, String>> = self
            .run(async move |mut c| {
                let mut p = redis::pipe();
                for k in &keys {
                    p.hgetall(k);
                }
                p.query_async(&mut c).await
            })
            .await?;
        let mut live = Vec::new();
        let mut expired = Vec::new();
        for (sid, h) in sids.into_iter().zip(hashes) {
            if h.is_empty() {
                expired.push(sid);
            } else {
                match from_hash(&sid, &h) {
                    Ok(call) => live.push(call),
                    Err(e) => tracing::warn!(error = %e, "skipping a corrupt live-call record"),
                }
            }
        }
        if !expired.is_empty() {
            // Calls whose hash expired (their instance died): drop them from the index.
            let index = self.index_key();
            self.run(async move |mut c| c.zrem::<_, _, ()>(&index, &expired).await)
                .await?;
        }
        Ok(live)
    }

    async fn ping(&self) -> Result<(), SessionError> {
        self.run(async move |mut c| redis::cmd("PING").query_async::<String>(&mut c).await)
            .await
            .map(|_| ())
    }
}
