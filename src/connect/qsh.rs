//! Query string hash (qsh): binds a Connect JWT to one exact HTTP request.
//!
//! Implements Atlassian's canonical-request algorithm exactly as the Java reference
//! (Atlassian Connect Spring Boot `HttpRequestCanonicalizer`) does, because a hash that
//! differs from Jira's in any corner (repeated parameters, `+`, `~`, `&` inside the path)
//! is either an outage (valid requests rejected) or a bypass (two requests hashing alike).
//! See <https://developer.atlassian.com/cloud/bitbucket/query-string-hash> and
//! `shared/reference/connect-and-security.md` §3.5, whose test vectors live in the tests below.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The literal `qsh` that context tokens from `AP.context.getToken()` carry.
pub const CONTEXT_QSH: &str = "context-qsh";

/// A raw query string could not be decoded as UTF-8 form data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("query string is not valid UTF-8 form data")]
pub struct BadQuery;

/// The canonical request `METHOD&path&query`.
///
/// `path` is the raw request path, still percent-encoded as received; `context_path` is the
/// path of the base URL it is relative to (the app's for incoming requests, the tenant's for
/// outgoing ones) and is removed on a segment boundary.
pub fn canonical_request(
    method: &str,
    path: &str,
    context_path: &str,
    raw_query: Option<&str>,
) -> Result<String, BadQuery> {
    Ok(format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        canonical_uri(path, context_path),
        canonical_query(raw_query.unwrap_or(""))?
    ))
}

/// The qsh claim for a request: lowercase hex SHA-256 of its canonical form.
pub fn qsh(
    method: &str,
    path: &str,
    context_path: &str,
    raw_query: Option<&str>,
) -> Result<String, BadQuery> {
    let canonical = canonical_request(method, path, context_path, raw_query)?;
    Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
}

fn canonical_uri(path: &str, context_path: &str) -> String {
    let context = context_path.trim_end_matches('/');
    let mut uri = path;
    if !context.is_empty()
        && let Some(rest) = path.strip_prefix(context)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        uri = rest;
    }
    let mut uri = uri.to_owned();
    if uri.is_empty() {
        uri.push('/');
    }
    if uri.len() > 1 && uri.ends_with('/') {
        uri.pop();
    }
    let mut uri = uri.replace('&', "%26");
    if !uri.starts_with('/') {
        uri.insert(0, '/');
    }
    uri
}

fn canonical_query(raw: &str) -> Result<String, BadQuery> {
    // Grouped by percent-encoded name: BTreeMap's byte order is the Java rule.
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(name)?;
        if name == "jwt" {
            continue;
        }
        params
            .entry(encode(&name))
            .or_default()
            .push(form_decode(value)?);
    }
    let mut out = String::new();
    for (name, mut values) in params {
        // Java sorts decoded values as Strings: UTF-16 code-unit order.
        values.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&name);
        out.push('=');
        let encoded: Vec<String> = values.iter().map(|v| encode(v)).collect();
        out.push_str(&encoded.join(","));
    }
    Ok(out)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` bytes must form UTF-8.
fn form_decode(s: &str) -> Result<String, BadQuery> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| BadQuery)
}

/// RFC 3986 encoding keeping only unreserved characters, with uppercase hex.
fn encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(req: &str) -> (&str, Option<&str>) {
        match req.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req, None),
        }
    }

    /// Every vector of reference §3.6 (atlassian-jwt interoperability file and unit tests).
    #[test]
    fn matches_every_published_test_vector() {
        let vectors: &[(&str, &str, &str)] = &[
            (
                "/test?param=value",
                "GET&/test&param=value",
                "be16910858a41fd19ea5c1b4e9decca9a784d1024cb00b2158defe2f29dc86dd",
            ),
            (
                "/test?param=some+spaces+in+this+parameter",
                "GET&/test&param=some%20spaces%20in%20this%20parameter",
                "ef4097d05395eaf1a133956f140116a9c411afad768d4f06daac9e305764265d",
            ),
            (
                "/test?query=connect*",
                "GET&/test&query=connect%2A",
                "0d28bc10d1972d9cab59e123ce17976eb32aad6957a13cfb8b97ced6d3fc8a29",
            ),
            (
                "/test?director=%E5%AE%AE%E5%B4%8E+%E9%A7%BF",
                "GET&/test&director=%E5%AE%AE%E5%B4%8E%20%E9%A7%BF",
                "44d6354ffe8f963972a7fc59e98b2c3dfe4b493295c5b89edd974a339e61ac89",
            ),
            (
                "/test?ids=10%2C2%2C20%2C1",
                "GET&/test&ids=10%2C2%2C20%2C1",
                "2e617b65f966650789990e5cac8ff295ee5b453834d04798f466ff6035bd8829",
            ),
            (
                "/test?tuples=1%2C2%2C3&tuples=6%2C5%2C4&tuples=7%2C9%2C8",
                "GET&/test&tuples=1%2C2%2C3,6%2C5%2C4,7%2C9%2C8",
                "f9f62bb61191dff1b219e9ade8ac38fcfa46272ea76d9545410db6559fd8e7bd",
            ),
            (
                "/test?title=1+%2B+1+equals+3",
                "GET&/test&title=1%20%2B%201%20equals%203",
                "ce0a866ce0c34cbde70deb63f6915192f58500d2b49b12e1ffc8cdf91edabc91",
            ),
            (
                "/test?json=%7B%22key%22%3A%22value%22%7D",
                "GET&/test&json=%7B%22key%22%3A%22value%22%7D",
                "1d74c5a1f0a6c72a3ce285570cbfd8fe736910123e6ada203d4c7ba9a6128a6f",
            ),
            (
                "/test?quote=%27quoted%27",
                "GET&/test&quote=%27quoted%27",
                "207a30376c594d5cde7b6e873b943f84798371d3293b7eac27e2c2a2a5d111d5",
            ),
            (
                "/test?param=%28%29",
                "GET&/test&param=%28%29",
                "46b9787a8983560f446f82d6143122d99e153affd5688fa45343074a091573eb",
            ),
            (
                "/test?eta=in+%7E3+days",
                "GET&/test&eta=in%20~3%20days",
                "5c5f97cdfe3abd8feb48f6f0240a71ef5c111289a5bf77ddf645250b3951ec63",
            ),
            (
                "/test?rfc=+%3C%3E%22%23%25%7B%7D%7C%5C%5E%7E%5B%5D%60",
                "GET&/test&rfc=%20%3C%3E%22%23%25%7B%7D%7C%5C%5E~%5B%5D%60",
                "36ba39c5379d752bbef1349ba58df98ecaa456b78c7c2e3245e2f33eac712a49",
            ),
            (
                "/test?rfc=%3B%2F%3F%3A%40%3D%26",
                "GET&/test&rfc=%3B%2F%3F%3A%40%3D%26",
                "639330bc92d79373b198da697873b2f03f1a3a0c5af78cf8eea517f14960b150",
            ),
            (
                "/test?rfc=%24-_.%2B%21*%27%28%29%2C",
                "GET&/test&rfc=%24-_.%2B%21%2A%27%28%29%2C",
                "0e36229cc459ff8ccb4845c11433cfbbe25bfa45e8c1ea14d2a124231cb0a2e9",
            ),
            (
                "/test?rfc=-._%7E",
                "GET&/test&rfc=-._~",
                "0ddf7e631c3b11e7975814ee84fec26804dc72b0a0e997871d8415cee6b78b31",
            ),
            (
                "/test?rfc=%21%24%26%27%28%29*%2B%2C%3B%3D",
                "GET&/test&rfc=%21%24%26%27%28%29%2A%2B%2C%3B%3D",
                "b8d049874f1fe5abe274d20bdecebee8daada453191a827738eebcd759efd4e1",
            ),
            (
                "/test?notmuch=",
                "GET&/test&notmuch=",
                "20fecded9951516a3447b1b556d0eb350de29770505253a30dc739502e05ddc7",
            ),
            (
                "/test?referrer=http%3A%2F%2Ffrom.net%2Fp%3Fx%3DA%2B%252B%2BB%26y%3D%2524-_.%252B%2521*%2527%2528%2529%252C",
                "GET&/test&referrer=http%3A%2F%2Ffrom.net%2Fp%3Fx%3DA%2B%252B%2BB%26y%3D%2524-_.%252B%2521%2A%2527%2528%2529%252C",
                "7ca81b8e4e83c2375eea7b8b50bd3786ba8b43261193a3bd3ccdfca06120ee33",
            ),
            (
                "/test?ids=-1&ids=1&ids=10&ids=2&ids=20",
                "GET&/test&ids=-1,1,10,2,20",
                "a646c48741faaeb649f9ca7888ae029ead432e3806f56c4a57b80b3e2ac628a9",
            ),
            (
                "/test?ids=.1&ids=.2&ids=%3A1&ids=%3A2",
                "GET&/test&ids=.1,.2,%3A1,%3A2",
                "f0524d42e0f8661862e1f1e9add8757972a0043bb7136d641735d21874c5a056",
            ),
            (
                "/test?chars=%E5%AE%AE&chars=%E5%B4%8E&chars=%E9%A7%BF",
                "GET&/test&chars=%E5%AE%AE,%E5%B4%8E,%E9%A7%BF",
                "72a7f7ce9f93157f296b86338315423d6f3b6aba5081f04bbdb6bb18218b65ee",
            ),
            (
                "/test?c=&c=+&c=%2520&c=%2B",
                "GET&/test&c=,%20,%2520,%2B",
                "cbbcac9a6a02f3ad96c5ab5bf876dd9f79b2c61ceec5660a1c9d73a3b102ec2c",
            ),
            (
                "/test?%231=value",
                "GET&/test&%231=value",
                "eccb4a232d50ca41ac40398675b6487a711d9e972917d8a61cbc120f9fbda597",
            ),
            (
                "/test?%3A1=value",
                "GET&/test&%3A1=value",
                "6d823181a68a4952c75e4b51ad0b8d59e879859cdf977e7254545201bca8465d",
            ),
            (
                "/test?a=x1&a=x10&b=y1&b=y10",
                "GET&/test&a=x1,x10&b=y1,y10",
                "310ba3ff7e1e9a8cacd33dd6172501304bf325096d81ccad449465427e58a9c4",
            ),
            (
                "/test?a10=1&a1=2&b1=3&b10=4",
                "GET&/test&a1=2&a10=1&b1=3&b10=4",
                "159cc3d3003f067c3ae263d19ded42dedd28221cce4d4757b13fc7722a24408f",
            ),
            (
                "/test?A=A&a=a&b=b&B=B",
                "GET&/test&A=A&B=B&a=a&b=b",
                "539adc2b0aef2ec8659825893b8b92e6a53c9483e2150b8185b08490d8b6de60",
            ),
            (
                "/test",
                "GET&/test&",
                "bad328fac990349a8c88393c1755bc4f984a9c387202229b8ed52e04ff7e9fec",
            ),
            (
                "/endsWithDelimiter/?a=b",
                "GET&/endsWithDelimiter&a=b",
                "8f77c6a0e6bf25041121ee44480d3c97ae9cca4b7a007ea6e1d648d9a26e5d1d",
            ),
            (
                "/endsWithDelimiter/",
                "GET&/endsWithDelimiter&",
                "4c799e91fc8e1be9b1f034f2191ae80cb2080b54a85e9a2464ad2f2115f8d987",
            ),
            (
                "/path-._~?a=b",
                "GET&/path-._~&a=b",
                "5d1574ea0fd8974fa4326d87b3efec74004bf13d35395599de425327178c173b",
            ),
            (
                "/path!$&'()*+,;=?a=b",
                "GET&/path!$%26'()*+,;=&a=b",
                "9ef803f9cb8dea4f7f875caff8d31e95962c6e8bd44d64a848d6ebb055b2144b",
            ),
            (
                "/path",
                "GET&/path&",
                "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2",
            ),
            (
                "/",
                "GET&/&",
                "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239",
            ),
            (
                "",
                "GET&/&",
                "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239",
            ),
            (
                "/hello-world?lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=&jwt=abc.def.ghi&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1",
                "GET&/hello-world&cp=%2Fjira&lic=none&loc=en-US&tz=Australia%2FSydney&user_id=&user_key=&xdm_c=channel-servlet-hello-world&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_p=1",
                "8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9",
            ),
            (
                "/path/to/service?zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2&repeated=Parameter 2",
                "GET&/path/to/service&first=param&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param",
                "9ae6056cf66c00e76fa15e66fd26091fecd7356eec2f2c30629835b656799f66",
            ),
            (
                "/path/to/service?a=1&A=2&b=3&B=4",
                "GET&/path/to/service&A=2&B=4&a=1&b=3",
                "70282c7cf82834bd5a3d6dacda1b4ccd5cf5860a63a1fa2fb86b64d576e6a1d5",
            ),
        ];
        for (request, canonical, hash) in vectors {
            let (path, query) = split(request);
            let got = canonical_request("GET", path, "", query).expect("decodes");
            assert_eq!(&got, canonical, "canonical form of {request}");
            assert_eq!(
                &qsh("GET", path, "", query).expect("decodes"),
                hash,
                "qsh of {request}"
            );
        }
    }

    #[test]
    fn method_is_uppercased_and_post_vector_matches() {
        assert_eq!(
            qsh("post", "/hello-world", "", None).expect("decodes"),
            "6f95f3738e1b037a3bebbe0ad237d80fdbc1d5ae452e98ce03a9c004c178ebb4"
        );
        assert_eq!(
            qsh("POST", "/installed", "", None).expect("decodes"),
            "4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4"
        );
    }

    #[test]
    fn context_path_is_removed_on_a_segment_boundary_only() {
        let with_base = qsh(
            "GET",
            "/base/path/to/service",
            "/base",
            Some(
                "zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2&repeated=Parameter 2",
            ),
        );
        assert_eq!(
            with_base.expect("decodes"),
            "9ae6056cf66c00e76fa15e66fd26091fecd7356eec2f2c30629835b656799f66"
        );
        assert_eq!(
            canonical_request("GET", "/basement/x", "/base", None).expect("decodes"),
            "GET&/basement/x&"
        );
        assert_eq!(
            canonical_request(
                "POST",
                "/jira/rest/api/2/project/jira&a=b&c=d",
                "/jira/",
                Some("x=y")
            )
            .expect("decodes"),
            "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y"
        );
    }

    #[test]
    fn valueless_parameters_hash_as_empty_values() {
        assert_eq!(
            canonical_request("GET", "/hello-world", "", Some("a&b=foo&c")).expect("decodes"),
            "GET&/hello-world&a=&b=foo&c="
        );
    }

    #[test]
    fn ampersand_in_path_does_not_collide_with_query() {
        let spoof = qsh("GET", "/api/x&a=b", "", Some("c=d")).expect("decodes");
        let real = qsh("GET", "/api/x", "", Some("a=b&c=d")).expect("decodes");
        assert_ne!(spoof, real);
    }

    #[test]
    fn invalid_utf8_escapes_are_rejected() {
        assert_eq!(qsh("GET", "/x", "", Some("a=%FF%FE")), Err(BadQuery));
    }

    proptest! {
        /// Reordering parameters never changes the hash; it is a function of the multiset.
        #[test]
        fn parameter_order_is_irrelevant(mut pairs in proptest::collection::vec(("[a-zA-Z0-9_.~%-]{1,6}", "[ -~]{0,8}"), 0..6), seed in any::<u64>()) {
            let pairs: Vec<(String, String)> = pairs.drain(..).filter(|(k, _)| k != "jwt").collect();
            let build = |ps: &[(String, String)]| ps.iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>().join("&");
            let mut shuffled = pairs.clone();
            let n = shuffled.len().max(1);
            shuffled.rotate_left((seed as usize) % n);
            shuffled.reverse();
            prop_assert_eq!(
                qsh("GET", "/p", "", Some(&build(&pairs))).unwrap(),
                qsh("GET", "/p", "", Some(&build(&shuffled))).unwrap()
            );
        }

        /// Encoding a decoded value again yields the canonical form: only unreserved characters
        /// stay literal and every escape uses uppercase hex.
        #[test]
        fn canonical_query_uses_only_unreserved_and_uppercase_escapes(value in "\\PC{0,12}") {
            let query = format!("k={}", encode(&value));
            let canonical = canonical_query(&query).unwrap();
            let v = canonical.strip_prefix("k=").unwrap();
            let mut chars = v.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '%' {
                    let hi = chars.next().unwrap();
                    let lo = chars.next().unwrap();
                    prop_assert!(hi.is_ascii_hexdigit() && !hi.is_ascii_lowercase());
                    prop_assert!(lo.is_ascii_hexdigit() && !lo.is_ascii_lowercase());
                } else {
                    prop_assert!(c.is_ascii_alphanumeric() || "-._~".contains(c));
                }
            }
        }

        /// A jwt parameter never contributes to the hash.
        #[test]
        fn jwt_parameter_is_ignored(token in "[A-Za-z0-9._-]{0,40}") {
            prop_assert_eq!(
                qsh("GET", "/p", "", Some(&format!("a=1&jwt={token}"))).unwrap(),
                qsh("GET", "/p", "", Some("a=1")).unwrap()
            );
        }
    }
}
