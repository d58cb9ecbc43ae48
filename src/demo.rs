//! `ferry demo`: the whole product on one laptop, no ADO organization or Jira site needed.
//!
//! Ferry on SQLite in a temporary folder, the ADO simulator serving a generated organization,
//! and the Jira simulator as the tenant's site *and* the Connect host: Ferry is installed into
//! it through a real RS256-signed install (its public key fetched from the simulator), so the
//! pages open exactly as they do inside Jira, with a qsh-bound `jwt` in the iframe URL. The
//! browser tests start the same world in-process through [`Demo::start`].

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use base64::Engine as _;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    app::{self, AppState},
    config::Config,
    sim::{
        ado::{self, AdoSim, AdoSimOptions, Dataset},
        faults::{Faults, parse_faults},
        r#gen::{GenOptions, generate_string, people},
        host::HostOptions,
        jira::{JiraSimOptions, Site},
        limits::{JiraLimiter, ado_layers, parse_jira_profile},
        reqlog::RequestLog,
        serve::jira_server,
    },
    store::Store,
};

/// The Jira administrator the demo's host page signs in as (one of the default site's people).
pub const DEMO_ADMIN: &str = "712020:0001-admin";
/// The admin page's module key in Ferry's descriptor.
pub const ADMIN_MODULE: &str = "ferry-admin";
/// The personal access token the ADO simulator accepts.
pub const DEMO_PAT: &str = "demo-pat-0123456789abcdef";

/// What the demo world looks like.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Work items in the generated ADO project.
    pub items: usize,
    /// Generator seed.
    pub seed: u64,
    /// Ports for Ferry, ADO and Jira (0 = any free port).
    pub ports: (u16, u16, u16),
    /// The Jira simulator's rate-limit profile (`unlimited`, `jira-cloud-2026`, …).
    pub jira_profile: String,
    /// Faults (e.g. latency) on the Jira simulator, to watch a run pace itself.
    pub jira_faults: Option<String>,
    /// Fill the connect form with the simulator's URL and PAT.
    pub prefill: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            items: 2000,
            seed: 7,
            ports: (0, 0, 0),
            jira_profile: "unlimited".into(),
            jira_faults: None,
            prefill: true,
        }
    }
}

/// A running demo world; [`Demo::stop`] ends it and removes its folder.
pub struct Demo {
    /// The host page: Jira's frame with Ferry's admin page in its iframe.
    pub host_page: String,
    /// Ferry's base URL.
    pub ferry_url: String,
    /// The Jira simulator's base URL.
    pub jira_url: String,
    /// The ADO organization URL to connect.
    pub ado_url: String,
    /// The PAT to connect with.
    pub pat: String,
    /// The generated project's name.
    pub project: String,
    /// The Jira simulator's host role (to sign fresh iframe URLs).
    pub host: crate::sim::host::ConnectHost,
    /// The store (tests read the audit log through the API, this is for diagnosis).
    pub store: Store,
    dir: PathBuf,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(port: u16) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

impl Demo {
    /// Starts the three servers and installs Ferry into the Jira simulator.
    pub async fn start(options: DemoOptions) -> anyhow::Result<Self> {
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let dir = std::env::temp_dir().join(format!("ferry-demo-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

        // Azure DevOps: a generated organization.
        // With planted trouble (retired values, odd parents), so the dry run and the report have
        // something to show.
        let gen_options = GenOptions::new(options.items, options.seed).with_trouble();
        let text = {
            let o = gen_options;
            tokio::task::spawn_blocking(move || generate_string(&o).map(|(t, _)| t)).await??
        };
        let dataset = Dataset::from_json(&text).context("the generated dataset")?;
        let project = serde_json::from_str::<serde_json::Value>(&text)?["projects"][0]["name"]
            .as_str()
            .unwrap_or("Contoso")
            .to_owned();
        drop(text);
        let (ado_listener, ado_addr) = bind(options.ports.1).await?;
        let ado_sim = AdoSim::new(
            dataset,
            url::Url::parse(&format!("http://{ado_addr}/"))?,
            AdoSimOptions {
                pat: DEMO_PAT.into(),
            },
        );
        let ado_url = ado_sim.org_url().to_owned();
        let ado_router = ado_layers(ado::router(ado_sim), None, None, RequestLog::new());
        tasks.push(serve(ado_listener, ado_router, shutdown.clone()));

        // Jira: the site with the dataset's people, also the Connect host.
        let (jira_listener, jira_addr) = bind(options.ports.2).await?;
        let jira_url = format!("http://{jira_addr}");
        let resolvable = people(&gen_options)
            .into_iter()
            .filter(|p| p.resolvable)
            .map(|p| (p.name, p.email));
        let limiter = match options.jira_profile.as_str() {
            "unlimited" => None,
            name => Some(JiraLimiter::new(parse_jira_profile(name)?)),
        };
        let faults = options
            .jira_faults
            .as_deref()
            .map(|s| parse_faults(s).map(Faults::new))
            .transpose()
            .context("Jira faults")?;
        let jira = jira_server(
            url::Url::parse(&jira_url)?,
            Site::default_scrum().with_people(resolvable),
            JiraSimOptions::default(),
            limiter,
            faults,
            HostOptions::default(),
        )?;
        let host = jira.host.clone();
        tasks.push(serve(jira_listener, jira.router, shutdown.clone()));

        // Ferry: SQLite in the temporary folder, trusting the simulators on 127.0.0.1.
        let (ferry_listener, ferry_addr) = bind(options.ports.0).await?;
        let ferry_url = format!("http://{ferry_addr}");
        let mut env: Vec<(&str, String)> = vec![
            ("FERRY_BASE_URL", ferry_url.clone()),
            ("FERRY_LISTEN", ferry_addr.to_string()),
            ("FERRY_DATA_DIR", dir.display().to_string()),
            (
                "FERRY_INSTALL_KEYS_URL",
                format!("{jira_url}/_sim/install-keys"),
            ),
            ("FERRY_ALLOWED_HOSTS", "http://127.0.0.1:*".into()),
            ("FERRY_ALLOWED_SOURCE_HOSTS", ado_addr.to_string()),
            ("FERRY_RUN_LEASE_SECS", "10".into()),
            // A fresh key per demo: nothing outlives the temporary folder anyway.
            (
                "FERRY_SECRET_KEY",
                base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>()),
            ),
        ];
        if options.prefill {
            env.push(("FERRY_DEMO_ADO_URL", ado_url.clone()));
            env.push(("FERRY_DEMO_ADO_PAT", DEMO_PAT.into()));
        }
        let config =
            Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))?;
        let store = Store::open(&config.database_url).await?;
        let state = AppState::new(config, store.clone())?;
        tasks.extend(app::spawn_workers(&state, &shutdown));
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = app::run(ferry_listener, state, stop).await {
                tracing::error!(error = %format!("{e:#}"), "ferry stopped");
            }
        }));

        // The signed install, as Jira does it when an admin installs the app.
        host.install(&format!("{ferry_url}/atlassian-connect.json"))
            .await
            .context("installing Ferry into the Jira simulator")?;
        let host_page = host.page_url(ADMIN_MODULE, DEMO_ADMIN);
        Ok(Self {
            host_page,
            ferry_url,
            jira_url,
            ado_url,
            pat: DEMO_PAT.into(),
            project,
            host,
            store,
            dir,
            shutdown,
            tasks,
        })
    }

    /// Stops every server and worker and removes the temporary folder.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(listener: TcpListener, router: axum::Router, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    })
}

/// `ferry demo`: starts the world, prints where to go, runs until Ctrl-C (or SIGTERM).
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let items = options.items;
    let demo = Demo::start(options).await?;
    println!(
        "\nFerry demo is running ({items} generated Azure DevOps work items).\n\n  Open: {}\n\n\
         That page plays Jira with Ferry's admin page in its iframe. The connect form is filled in:\n  \
         Azure DevOps URL: {}\n  Personal access token: {}\n  Project: {}\n\n\
         Ferry {}  ·  Jira simulator {}  ·  data in a temporary folder, removed on exit.\n\
         Press Ctrl-C to stop.",
        demo.host_page, demo.ado_url, demo.pat, demo.project, demo.ferry_url, demo.jira_url
    );
    let stop = CancellationToken::new();
    tokio::spawn(app::signal_shutdown(stop.clone()));
    stop.cancelled().await;
    println!("stopping…");
    demo.stop().await;
    Ok(())
}
