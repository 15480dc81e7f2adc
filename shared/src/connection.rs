//! The framework's own answers on a connection, brought to problem+json.
//!
//! actix-http answers three kinds of requests itself, before any middleware could: a request
//! line or header it cannot parse (400), headers larger than its buffer (431) and headers that
//! did not arrive within [`crate::server::HEADER_TIMEOUT`] (408). It writes them with an empty
//! body and closes the connection, and it offers no hook to shape them. [`ProblemStream`] wraps
//! each accepted connection and rewrites exactly those answers as they are written.
//!
//! They are recognisable on the wire: each is the last answer on its connection and the only
//! kind of answer here with a 4xx status and `content-length: 0` (every answer of ours that
//! refuses something carries a problem body, and JSON bodies never hold a raw CR LF, so the
//! pattern cannot be found inside a body either).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::problem::{ApiError, PROBLEM_JSON, TooSlow};

/// A connection whose framework-made error answers leave as problem+json.
pub struct ProblemStream<T> {
    inner: T,
    /// A rewritten answer accepted from the writer and not yet passed on.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ProblemStream<T> {
    pub fn new(inner: T) -> Self {
        ProblemStream { inner, pending: Vec::new(), written: 0 }
    }

    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncWrite + Unpin> ProblemStream<T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemStream<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemStream<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        match rewrite(buf) {
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
            Some(rewritten) => {
                // The whole buffer is taken at once, so the writer never splits the rewritten
                // answer; it is passed on here or in the next flush.
                self.pending = rewritten;
                if let Poll::Ready(Err(e)) = self.poll_pending(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(buf.len()))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

const EMPTY_LENGTH: &[u8] = b"\r\ncontent-length: 0\r\n";

/// `bytes` with the framework's empty error answer in it replaced by a problem+json answer, or
/// `None` when it holds none.
fn rewrite(bytes: &[u8]) -> Option<Vec<u8>> {
    let at = find(bytes, EMPTY_LENGTH)?;
    // The status line ends where the empty length begins (an earlier answer's body may end
    // right before it, without a line break).
    let line_start = memchr::memmem::rfind(&bytes[..at], b"HTTP/1.")?;
    let status = framework_status(&bytes[line_start..at])?;
    let problem = serde_json::to_vec(&framework_error(status).to_problem()).ok()?;
    let head_end = at + find(&bytes[at..], b"\r\n\r\n")? + 4;
    let mut out = Vec::with_capacity(bytes.len() + problem.len() + 64);
    out.extend_from_slice(&bytes[..at]);
    out.extend_from_slice(
        format!("\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n", problem.len()).as_bytes(),
    );
    out.extend_from_slice(&bytes[at + EMPTY_LENGTH.len()..head_end]);
    out.extend_from_slice(&problem);
    out.extend_from_slice(&bytes[head_end..]);
    Some(out)
}

/// The status of an HTTP/1 status line the framework writes for its own refusals.
fn framework_status(line: &[u8]) -> Option<StatusCode> {
    let rest = line.strip_prefix(b"HTTP/1.1 ").or_else(|| line.strip_prefix(b"HTTP/1.0 "))?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?.parse::<u16>().ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    [StatusCode::BAD_REQUEST, StatusCode::REQUEST_TIMEOUT, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE]
        .contains(&status)
        .then_some(status)
}

fn framework_error(status: StatusCode) -> ApiError {
    match status {
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout(TooSlow::Headers),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::HeadersTooLarge,
        _ => ApiError::BadRequest {
            detail: "the request line or a header is not valid HTTP/1.1; the connection is closed".into(),
            errors: vec![],
        },
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn answer(bytes: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(rewrite(bytes).unwrap()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let value = serde_json::from_str(body).unwrap();
        (head.to_owned(), value)
    }

    #[test]
    fn each_framework_refusal_becomes_a_problem_with_its_length() {
        for (line, code) in [
            ("HTTP/1.1 400 Bad Request", "bad_request"),
            ("HTTP/1.1 408 Request Timeout", "request_timeout"),
            ("HTTP/1.1 431 Request Header Fields Too Large", "headers_too_large"),
        ] {
            let raw = format!(
                "{line}\r\ncontent-length: 0\r\nconnection: close\r\ndate: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n"
            );
            let (head, body) = answer(raw.as_bytes());
            assert!(head.starts_with(line), "{head}");
            assert!(head.contains("content-type: application/problem+json\r\n"), "{head}");
            assert!(head.contains("connection: close\r\n") && head.contains("date: "), "{head}");
            assert_eq!(body["code"], code, "{body}");
            let length = serde_json::to_vec(&body).unwrap().len();
            assert!(head.contains(&format!("content-length: {length}\r\n")), "{head} / {length}");
        }
    }

    #[test]
    fn answers_before_the_refusal_pass_untouched() {
        let earlier = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        let raw = format!("{earlier}HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let out = String::from_utf8(rewrite(raw.as_bytes()).unwrap()).unwrap();
        assert!(out.starts_with(&format!("{earlier}HTTP/1.1 400 Bad Request\r\ncontent-type")), "{out}");
    }

    #[test]
    fn other_answers_are_not_rewritten() {
        for raw in [
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\ncontent-type: application/problem+json\r\n\r\n",
        ] {
            assert!(rewrite(raw.as_bytes()).is_none(), "{raw}");
        }
    }
}
