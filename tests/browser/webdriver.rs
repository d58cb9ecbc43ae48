//! A small W3C WebDriver client over reqwest, enough to drive chromedriver: sessions, navigation,
//! elements, frames, scripts and screenshots. Why not a crate: the protocol is a handful of
//! JSON calls, and reqwest is already here; no second HTTP stack for the tests.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where chromedriver and chromium are, from `FERRY_CHROMEDRIVER` / `FERRY_CHROMIUM` or the
/// Debian packages' paths. `None` when either is missing.
pub fn find_browser() -> Option<(PathBuf, PathBuf)> {
    let pick = |var: &str, defaults: &[&str]| {
        std::env::var(var)
            .ok()
            .map(PathBuf::from)
            .into_iter()
            .chain(defaults.iter().map(PathBuf::from))
            .find(|p| p.exists())
    };
    Some((
        pick(
            "FERRY_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        )?,
        pick(
            "FERRY_CHROMIUM",
            &[
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome",
            ],
        )?,
    ))
}

/// A chromedriver process and one browser session; both end on drop.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    child: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An element reference.
#[derive(Clone)]
pub struct El(Value);

impl Browser {
    /// Starts chromedriver on a free port and a headless chromium session of `width`×`height`.
    pub async fn start(driver: &Path, chromium: &Path, width: u32, height: u32) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{root}/status")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            // Do not wait for subresources (Atlassian's all.js from its CDN) to navigate on.
            "pageLoadStrategy": "eager",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"), "--hide-scrollbars",
                    // The tests run offline: Atlassian's bridge is absent, as on a laptop without network.
                    "--host-resolver-rules=MAP connect-cdn.atl-paas.net 127.0.0.1:9",
                ],
            },
        }}});
        let r: Value = http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        let browser = Self {
            http,
            base: format!("{root}/session/{id}"),
            child,
        };
        // The window size includes the browser's own frame: grow it until the page itself
        // (the viewport) is `width`×`height`.
        let chrome = browser
            .js("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];", vec![])
            .await;
        let extra = |i: usize| chrome[i].as_u64().unwrap_or(0) as u32;
        browser
            .call(
                reqwest::Method::POST,
                "/window/rect",
                Some(json!({ "width": width + extra(0), "height": height + extra(1) })),
            )
            .await;
        browser
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req
            .send()
            .await
            .expect("webdriver call")
            .json()
            .await
            .expect("json");
        if let Some(err) = r["value"].get("error") {
            panic!("webdriver {path}: {err} {}", r["value"]["message"]);
        }
        r["value"].clone()
    }

    /// Opens `url` in the current window.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` (a function body; `arguments` available) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Polls `script` until it returns something truthy; panics with `what` after `timeout`.
    pub async fn wait(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let started = Instant::now();
        loop {
            let v = self.js(script, vec![]).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            if started.elapsed() > timeout {
                let error = self
                    .js(
                        "const e = document.getElementById('page-error'); return e && !e.hidden ? e.textContent : document.title;",
                        vec![],
                    )
                    .await;
                panic!("waited {timeout:?} for {what}; page says: {error}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The first element matching `css`.
    pub async fn find(&self, css: &str) -> El {
        El(self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await)
    }

    /// Waits until `css` is displayed, then clicks it as a user would.
    pub async fn click(&self, css: &str) {
        let script = format!(
            "const e = document.querySelector({css:?}); return !!e && !!e.offsetParent && !e.disabled;"
        );
        self.wait(
            &format!("{css} to be clickable"),
            &script,
            Duration::from_secs(30),
        )
        .await;
        let el = self.find(css).await;
        let id = el.0[ELEMENT].as_str().expect("element id").to_owned();
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Types `text` into `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        let id = el.0[ELEMENT].as_str().expect("element id").to_owned();
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Switches into the iframe `css` (of the current browsing context).
    pub async fn enter_frame(&self, css: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, "/frame", Some(json!({ "id": el.0 })))
            .await;
    }

    /// Back to the top-level document.
    pub async fn leave_frames(&self) {
        self.call(reqwest::Method::POST, "/frame", Some(json!({ "id": null })))
            .await;
    }

    /// Saves a PNG of the whole window to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("base64"))
            .expect("png");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Ends the browser session.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
