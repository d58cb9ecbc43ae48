//! Permission checks against the Jira simulator over HTTP, with its real quota limiter and a
//! switch that makes it answer 503 (an outage), the cache bounds shortened to fractions of
//! a second so staleness shows within a test.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use axum::{
    extract::Request,
    http::StatusCode,
    middleware::{self, Next},
    response::IntoResponse,
};
use secrecy::SecretString;

use super::*;
use crate::{
    config::Config,
    sim::{
        jira::{JiraSim, JiraSimOptions, Site},
        limits::{
            JiraLimiter, jira_layers,
            profile::{BulkAccounting, JiraProfile, Pool, QuotaConfig},
        },
        reqlog::RequestLog,
    },
    store::Store,
};

const SECRET: &str = "permissions-test-shared-secret-0123456789";
const ADMIN: &str = "712020:0001-admin";
const USER: &str = "712020:0005";
const CHECK: &str = "/rest/api/3/permissions/check";
/// The simulator's virtual hour in the quota tests, seconds.
const HOUR: f64 = 4.0;

/// Ferry's side: the permission checker over a budget in a fresh SQLite store.
struct Checker {
    permissions: Permissions,
    budget: Budget,
    creds: TenantCredentials,
    client_key: String,
}

/// Jira's side: the simulator, its request log and its 503 switch.
struct Jira {
    sim: JiraSim,
    log: RequestLog,
    down: Arc<AtomicBool>,
    /// Permission checks that reached Jira, answered or refused.
    sent: Arc<AtomicUsize>,
    host: HostClient,
    creds: TenantCredentials,
}

impl Jira {
    /// Permission checks that reached Jira (answered or refused).
    fn checks(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Checks Jira refused for its quota.
    fn checks_walled(&self) -> usize {
        self.log
            .entries()
            .iter()
            .filter(|e| e.path == CHECK && e.limiter == Some("jira-quota-global-based"))
            .count()
    }

    /// Spends the app's pool with calls of its own until Jira answers the quota 429.
    async fn burn_the_pool(&self) {
        for _ in 0..100 {
            let r = self
                .host
                .request(&self.creds, Method::GET, "/rest/api/3/myself")
                .expect("request")
                .send()
                .await
                .expect("send");
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                return;
            }
        }
        panic!("the pool never ran out");
    }
}

/// The simulator on a loopback port; `quota` puts its real limiter in front with a pool of
/// that many points per [`HOUR`].
async fn jira(quota: Option<u64>) -> Jira {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let sim = JiraSim::new(
        Site::default_scrum(),
        base.parse().expect("url"),
        JiraSimOptions::default(),
    );
    sim.register_app(crate::config::DEFAULT_APP_KEY, SECRET);
    let limiter = quota.map(|points| {
        let mut p = JiraProfile::named("unlimited").expect("preset");
        p.quota = Some(QuotaConfig {
            pool: Pool::Global,
            points_per_hour: points,
            hour_secs: HOUR,
            start_offset_secs: 0.0,
            bulk_accounting: BulkAccounting::PerRequest,
            background_burn: 0.0,
            default_read_points: 2,
        });
        JiraLimiter::new(p)
    });
    let log = RequestLog::new();
    let down = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let (switch, count) = (down.clone(), sent.clone());
    let router = jira_layers(
        crate::sim::jira::router(sim.clone()),
        limiter,
        None,
        log.clone(),
    )
    .layer(middleware::from_fn(move |req: Request, next: Next| {
        let down = switch.load(Ordering::SeqCst);
        if req.uri().path() == CHECK {
            count.fetch_add(1, Ordering::SeqCst);
        }
        async move {
            if down {
                (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")]).into_response()
            } else {
                next.run(req).await
            }
        }
    }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let creds = TenantCredentials {
        base_url: base.parse().expect("url"),
        shared_secret: SecretString::from(SECRET.to_owned()),
    };
    Jira {
        sim,
        log,
        down,
        sent,
        host: HostClient::new(crate::config::DEFAULT_APP_KEY, Duration::from_secs(10)),
        creds,
    }
}

async fn checker(jira: &Jira, ttl: Duration, stale: Duration) -> Checker {
    let dir = std::env::temp_dir().join(format!("ferry-perm-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}/p.db", dir.display());
    let vars = [
        (
            "FERRY_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("FERRY_DATABASE_URL", url.as_str()),
    ];
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("config");
    let store = Store::open(&url).await.expect("store");
    let budget = Budget::new(&config, store);
    let host = HostClient::new(&config.app_key, Duration::from_secs(10));
    Checker {
        permissions: Permissions::with_bounds(host, budget.clone(), ttl, stale),
        budget,
        creds: TenantCredentials {
            base_url: jira.creds.base_url.clone(),
            shared_secret: SecretString::from(SECRET.to_owned()),
        },
        client_key: format!("ck-{}", uuid::Uuid::new_v4()),
    }
}

impl Checker {
    async fn admin(&self, account: &str) -> Result<bool, AppError> {
        self.permissions
            .has(&self.client_key, &self.creds, account, Right::Admin)
            .await
    }
}

fn unavailable(r: Result<bool, AppError>) -> bool {
    matches!(r, Err(AppError::Unavailable(_)))
}

/// Sleeps until the simulator's quota window has turned (its hours start at the limiter's).
async fn until_the_reset(wall: i64) {
    let ms = (wall - now_ms()).max(0) as u64 + 200;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test]
async fn during_a_quota_wall_no_check_is_sent_the_last_answer_stands_in_and_a_revocation_lands_after_the_reset()
 {
    let jira = jira(Some(12)).await;
    let c = checker(&jira, Duration::from_millis(100), Duration::from_secs(60)).await;
    assert!(c.admin(ADMIN).await.expect("answered"), "an admin is one");
    assert_eq!(jira.checks(), 1);

    jira.burn_the_pool().await;
    // The cached answer has expired: the next call asks, meets the wall, and the answer Jira
    // gave before stands in; the wall is now the budget's, for every replica.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(c.admin(ADMIN).await.expect("the last answer"));
    assert_eq!(jira.checks(), 2);
    assert_eq!(jira.checks_walled(), 1);
    let wall = c
        .budget
        .quota_wall(&c.client_key)
        .await
        .expect("store")
        .expect("the check recorded the wall");

    // The admin is removed from jira-administrators while Jira refuses to be asked.
    jira.sim.set_admin(ADMIN, false);
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(c.admin(ADMIN).await.expect("the last answer"));
    }
    // A user Jira never answered for is refused with a 503, not granted, and not asked.
    assert!(unavailable(c.admin(USER).await), "never answered: 503");
    assert_eq!(jira.checks(), 2, "no check was sent into the wall");
    assert_eq!(jira.checks_walled(), 1);

    // Once the pool resets, Jira answers again and the revocation takes effect.
    until_the_reset(wall).await;
    assert!(
        !c.admin(ADMIN).await.expect("answered"),
        "a revoked right ends as soon as Jira answers"
    );
    assert!(!c.admin(USER).await.expect("answered"));
    assert_eq!(jira.checks(), 4);
    assert_eq!(jira.checks_walled(), 1);
}

#[tokio::test]
async fn a_wall_another_replica_recorded_keeps_checks_from_being_sent() {
    let jira = jira(None).await;
    let c = checker(&jira, Duration::from_millis(100), Duration::from_secs(60)).await;
    assert!(c.admin(ADMIN).await.expect("answered"));
    c.budget
        .record_quota_wall(&c.client_key, now_ms() + 1_500)
        .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(c.admin(ADMIN).await.expect("the last answer"));
    assert!(unavailable(c.admin(USER).await));
    assert_eq!(
        jira.checks(),
        1,
        "nothing sent while the budget says walled"
    );
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert!(!c.admin(USER).await.expect("answered after the wall"));
    assert_eq!(jira.checks(), 2);
}

#[tokio::test]
async fn while_jira_answers_503_the_last_answer_stands_in_only_as_long_as_the_staleness_bound() {
    let jira = jira(None).await;
    let c = checker(
        &jira,
        Duration::from_millis(100),
        Duration::from_millis(1_500),
    )
    .await;
    assert!(c.admin(ADMIN).await.expect("answered"));
    jira.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(c.admin(ADMIN).await.expect("the last answer"));
    assert_eq!(jira.checks(), 2);
    // Jira asked for a second's rest: the next calls within it send nothing.
    assert!(c.admin(ADMIN).await.expect("the last answer"));
    assert!(unavailable(c.admin(USER).await), "never answered: 503");
    assert_eq!(jira.checks(), 2, "quiet for Retry-After");
    // Past the bound the old answer no longer stands in: fail closed.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(unavailable(c.admin(ADMIN).await), "too old to trust: 503");
    jira.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(c.admin(ADMIN).await.expect("answered again"));
}
