//! Local stand-ins for the services that hand out temporary AWS credentials, so credential
//! sources other than static keys can be tested end to end through the real SDK:
//!
//! - the IAM Identity Center (SSO) portal's `GetRoleCredentials`
//!   (`GET /federation/credentials?role_name=..&account_id=..` with the cached access token in
//!   `x-amz-sso_bearer_token`), the call SSO profiles make; point `AWS_ENDPOINT_URL_SSO` here;
//! - SSO OIDC `CreateToken` with `grantType` `refresh_token` (`POST /token`), the call that
//!   refreshes an `sso-session` token near expiry; point `AWS_ENDPOINT_URL_SSO_OIDC` here;
//! - STS `AssumeRoleWithWebIdentity` (query protocol: `POST /` with a form body, an XML answer),
//!   the call web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`) makes; point
//!   `AWS_ENDPOINT_URL_STS` here;
//! - a container credentials endpoint (`GET /v1/credentials` with the token in `Authorization`),
//!   as the ECS agent and the EKS Pod Identity agent serve it; point
//!   `AWS_CONTAINER_CREDENTIALS_FULL_URI` at `<url>/v1/credentials`.
//!
//! None of them is SigV4-signed (the SDKs send them unsigned). Every one issues the same
//! temporary credentials: the first configured key pair (by access key id), which the runtime
//! and control plane accept, with a session token and an expiry one hour ahead. A missing or
//! blank token is refused the way the real service refuses it.

use std::time::{Duration, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use percent_encoding::percent_decode_str;

use crate::error::{ApiError, insert_request_id, json_response};
use crate::state::Config;

/// The session token every issued credential carries.
pub const ISSUED_SESSION_TOKEN: &str = "fake-bedrock-issued-session-token";

/// The access token a refresh issues.
pub const REFRESHED_SSO_TOKEN: &str = "fake-bedrock-refreshed-sso-access-token";

/// How long issued credentials are valid.
const LIFETIME: Duration = Duration::from_secs(3600);

/// Answers an identity route, or `None` when the request is not one (then Bedrock's routing and
/// authentication apply).
pub(crate) fn respond(
    config: &Config,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Option<Response> {
    match (method, path) {
        ("GET", "/federation/credentials") => {
            Some(get_role_credentials(config, query, headers, request_id))
        }
        ("POST", "/")
            if form(body).any(|(k, v)| k == "Action" && v == "AssumeRoleWithWebIdentity") =>
        {
            Some(assume_role_with_web_identity(config, body, request_id))
        }
        ("GET", "/v1/credentials") => Some(container_credentials(config, headers, request_id)),
        ("POST", "/token") => Some(create_token(body, request_id)),
        _ => None,
    }
}

/// The key pair handed out: the configured pair with the smallest access key id.
fn issued(config: &Config) -> Option<(&str, &str)> {
    config
        .keys
        .iter()
        .min_by(|a, b| a.0.cmp(b.0))
        .map(|(k, s)| (k.as_str(), s.as_str()))
}

fn expiry() -> SystemTime {
    SystemTime::now() + LIFETIME
}

fn iso(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "2099-01-01T00:00:00Z".to_owned())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `application/x-www-form-urlencoded` or query pairs, decoded (`+` is a space).
fn form(raw: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair).replace('+', " ");
            let (k, v) = text.split_once('=').unwrap_or((&text, ""));
            let d = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (d(k), d(v))
        })
}

fn param(raw: &[u8], name: &str) -> Option<String> {
    form(raw)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.trim().is_empty())
}

fn no_keys() -> ApiError {
    ApiError::new(
        500,
        "InternalServerException",
        "fake-bedrock has no key pair configured to issue",
    )
}

// ---- SSO portal ----

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentialsBody<'a> {
    role_credentials: RoleCredentials<'a>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    /// Milliseconds since the epoch.
    expiration: i64,
}

fn get_role_credentials(
    config: &Config,
    query: &str,
    headers: &HeaderMap,
    request_id: &str,
) -> Response {
    let result = (|| {
        if header(headers, "x-amz-sso_bearer_token").is_none() {
            return Err(ApiError::new(
                401,
                "UnauthorizedException",
                "Session token not found or invalid",
            ));
        }
        for name in ["role_name", "account_id"] {
            if param(query.as_bytes(), name).is_none() {
                return Err(ApiError::new(
                    400,
                    "InvalidRequestException",
                    &format!("{name} is required"),
                ));
            }
        }
        let (access_key_id, secret_access_key) = issued(config).ok_or_else(no_keys)?;
        let expiration = DateTime::from(expiry()).to_millis().unwrap_or(i64::MAX);
        let body = crate::error::to_json(&RoleCredentialsBody {
            role_credentials: RoleCredentials {
                access_key_id,
                secret_access_key,
                session_token: ISSUED_SESSION_TOKEN,
                expiration,
            },
        })?;
        Ok(json_response(body))
    })();
    finish(result, request_id)
}

// ---- SSO OIDC CreateToken (refresh) ----

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateTokenBody<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_in: u64,
    refresh_token: &'a str,
}

fn create_token(body: &[u8], request_id: &str) -> Response {
    let result = (|| {
        let input: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::new(400, "InvalidRequestException", "the body is not JSON"))?;
        let field = |key: &str| {
            input
                .get(key)
                .and_then(|v| v.as_str())
                .filter(|v| !v.trim().is_empty())
        };
        if field("clientId").is_none() || field("clientSecret").is_none() {
            return Err(ApiError::new(
                401,
                "InvalidClientException",
                "the client id or secret is missing",
            ));
        }
        if field("grantType") != Some("refresh_token") || field("refreshToken").is_none() {
            return Err(ApiError::new(
                400,
                "InvalidGrantException",
                "only a refresh_token grant with a refresh token is supported",
            ));
        }
        let body = crate::error::to_json(&CreateTokenBody {
            access_token: REFRESHED_SSO_TOKEN,
            token_type: "Bearer",
            expires_in: LIFETIME.as_secs(),
            refresh_token: "fake-bedrock-refresh-token",
        })?;
        Ok(json_response(body))
    })();
    finish(result, request_id)
}

// ---- STS AssumeRoleWithWebIdentity ----

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn sts_error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
         <Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error>\
         <RequestId>{request_id}</RequestId></ErrorResponse>",
        xml_escape(message)
    );
    xml_response(status, body, request_id)
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    insert_request_id(response.headers_mut(), request_id);
    response
}

fn assume_role_with_web_identity(config: &Config, body: &[u8], request_id: &str) -> Response {
    let Some(role_arn) = param(body, "RoleArn") else {
        return sts_error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: \
             Member must not be null",
            request_id,
        );
    };
    if param(body, "WebIdentityToken").is_none() {
        return sts_error(
            StatusCode::BAD_REQUEST,
            "InvalidIdentityToken",
            "The web identity token that was passed could not be validated by AWS",
            request_id,
        );
    }
    // arn:aws:iam::<account>:role/<name>
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let (account, role) = match parts.as_slice() {
        ["arn", _, "iam", "", account, resource]
            if !account.is_empty() && resource.starts_with("role/") =>
        {
            (
                account.to_string(),
                resource.trim_start_matches("role/").to_string(),
            )
        }
        _ => {
            return sts_error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                &format!("{role_arn} is invalid"),
                request_id,
            );
        }
    };
    let session = param(body, "RoleSessionName").unwrap_or_else(|| "session".to_owned());
    let Some((access_key_id, secret_access_key)) = issued(config) else {
        return sts_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "fake-bedrock has no key pair configured to issue",
            request_id,
        );
    };
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult>\
         <SubjectFromWebIdentityToken>fake-subject</SubjectFromWebIdentityToken>\
         <Audience>sts.amazonaws.com</Audience>\
         <AssumedRoleUser>\
         <Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn>\
         <AssumedRoleId>AROAFAKEBEDROCK:{session}</AssumedRoleId>\
         </AssumedRoleUser>\
         <Credentials>\
         <SessionToken>{ISSUED_SESSION_TOKEN}</SessionToken>\
         <SecretAccessKey>{secret}</SecretAccessKey>\
         <Expiration>{expiration}</Expiration>\
         <AccessKeyId>{akid}</AccessKeyId>\
         </Credentials>\
         <Provider>fake-bedrock</Provider>\
         </AssumeRoleWithWebIdentityResult>\
         <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
         </AssumeRoleWithWebIdentityResponse>",
        account = xml_escape(&account),
        role = xml_escape(&role),
        session = xml_escape(&session),
        secret = xml_escape(secret_access_key),
        akid = xml_escape(access_key_id),
        expiration = iso(expiry()),
    );
    xml_response(StatusCode::OK, body, request_id)
}

// ---- Container credentials ----

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    account_id: &'a str,
}

fn container_credentials(config: &Config, headers: &HeaderMap, request_id: &str) -> Response {
    let result = (|| {
        if header(headers, "authorization").is_none() {
            return Err(ApiError::new(
                401,
                "AccessDeniedException",
                "the container credentials request carried no authorization token",
            ));
        }
        let (access_key_id, secret_access_key) = issued(config).ok_or_else(no_keys)?;
        let body = crate::error::to_json(&ContainerCredentials {
            access_key_id,
            secret_access_key,
            token: ISSUED_SESSION_TOKEN,
            expiration: iso(expiry()),
            account_id: &config.account_id,
        })?;
        Ok(json_response(body))
    })();
    finish(result, request_id)
}

fn finish(result: Result<Response, ApiError>, request_id: &str) -> Response {
    match result {
        Ok(mut response) => {
            insert_request_id(response.headers_mut(), request_id);
            response
        }
        Err(err) => err.into_response(request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let pairs: Vec<_> = form(
            b"Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&X=a+b&",
        )
        .collect();
        assert_eq!(
            pairs,
            [
                ("Action".into(), "AssumeRoleWithWebIdentity".into()),
                ("RoleArn".into(), "arn:aws:iam::1:role/r".into()),
                ("X".into(), "a b".into())
            ]
        );
        assert_eq!(param(b"A=&B=1", "A"), None);
        assert_eq!(param(b"A=&B=1", "B").as_deref(), Some("1"));
    }

    /// One HTTP/1.1 exchange over a raw socket: (status, whole response text).
    async fn exchange(url: &str, request: String) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = url.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        socket.read_to_string(&mut out).await.unwrap();
        let status = out[9..12].parse().unwrap();
        (status, out)
    }

    fn get(path: &str, header: &str) -> String {
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{header}\r\n")
    }

    fn post(body: &str) -> String {
        format!(
            "POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn refusals_look_like_the_real_services() {
        let fake = crate::FakeBedrock::builder()
            .credentials("AKIDB", "secret-b")
            .credentials("AKIDA", "secret-a")
            .start()
            .await
            .unwrap();
        let url = fake.url();
        let sso = "/federation/credentials?role_name=r&account_id=1";

        let (status, text) = exchange(&url, get(sso, "")).await;
        assert_eq!(status, 401);
        assert!(
            text.contains("x-amzn-errortype: UnauthorizedException"),
            "{text}"
        );
        let (status, text) = exchange(
            &url,
            get(
                "/federation/credentials?role_name=r",
                "x-amz-sso_bearer_token: t\r\n",
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert!(text.contains("InvalidRequestException"), "{text}");
        let (status, text) = exchange(&url, get(sso, "x-amz-sso_bearer_token: t\r\n")).await;
        assert_eq!(status, 200);
        // The smallest configured access key id is the one issued.
        assert!(
            text.contains(r#"{"roleCredentials":{"accessKeyId":"AKIDA","secretAccessKey":"secret-a","sessionToken":"fake-bedrock-issued-session-token","expiration":"#),
            "{text}"
        );

        let (status, text) = exchange(
            &url,
            post("Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"),
        )
        .await;
        assert_eq!(status, 400);
        assert!(text.contains("<Code>InvalidIdentityToken</Code>"), "{text}");
        let (status, text) = exchange(
            &url,
            post("Action=AssumeRoleWithWebIdentity&RoleArn=not-an-arn&WebIdentityToken=t"),
        )
        .await;
        assert_eq!(status, 400);
        assert!(text.contains("<Code>ValidationError</Code>"), "{text}");

        let token = |body: &str| {
            format!(
                "POST /token HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let (status, text) = exchange(
            &url,
            token(r#"{"clientId":"c","clientSecret":"s","grantType":"authorization_code"}"#),
        )
        .await;
        assert_eq!(status, 400);
        assert!(text.contains("InvalidGrantException"), "{text}");
        let (status, text) = exchange(&url, token(r#"{"grantType":"refresh_token"}"#)).await;
        assert_eq!(status, 401);
        assert!(text.contains("InvalidClientException"), "{text}");

        let (status, _) = exchange(&url, get("/v1/credentials", "")).await;
        assert_eq!(status, 401);
        let (status, text) = exchange(&url, get("/v1/credentials", "authorization: t\r\n")).await;
        assert_eq!(status, 200);
        assert!(text.contains(r#""AccessKeyId":"AKIDA""#), "{text}");

        // The SSO token is redacted in the record.
        let tokens: Vec<String> = fake
            .requests()
            .iter()
            .filter_map(|r| r.header("x-amz-sso_bearer_token").map(str::to_owned))
            .collect();
        assert_eq!(tokens, [crate::record::REDACTED, crate::record::REDACTED]);
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml_escape("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
    }
}
