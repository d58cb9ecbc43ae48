//! Query-string helpers: Jira repeats parameters (`fields=a&fields=b`) and mixes commas, so the
//! raw query is decoded once into pairs rather than through a typed extractor.

/// Decoded query pairs, in order.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of `name`.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, split on commas.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.all(name)
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// An integer parameter, with Jira's 400 when it does not parse.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, super::JiraError> {
        match self.one(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                super::JiraError::bad_request(format!("The value '{v}' is invalid for {name}."))
            }),
        }
    }
}
