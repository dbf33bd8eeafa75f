// Package smtp sends Alinea's notification emails through an SMTP server
// configured with one URL:
//
//	smtp://user:password@mail.example.com:587?from=alinea@example.com&tls=starttls
//
// tls is starttls (the default for smtp://; port 587), tls (implicit TLS,
// the default for smtps://; port 465) or none (port 25; credentials are
// then refused unless the server is on this machine). from may carry a
// name, URL-encoded: from=Alinea%20%3Calinea@example.com%3E.
//
// It is built on the standard library's net/smtp: a notification is one
// message to one recipient, which needs only STARTTLS, AUTH PLAIN and a
// multipart/alternative body.
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLS modes.
const (
	StartTLS = "starttls"
	TLS      = "tls"
	NoTLS    = "none"
)

// Timeout bounds one message: connecting, the dialogue and the data.
const Timeout = 30 * time.Second

// Config says how to reach the SMTP server and who mail is from.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	From     mail.Address
	TLS      string
	// Helo is the name Alinea gives itself in EHLO (default "localhost").
	Helo string
	// RootCAs verifies the server's certificate; nil means the system's.
	RootCAs *x509.CertPool
}

// ParseURL reads a configuration from an smtp:// or smtps:// URL. Its
// errors never repeat the URL, which may hold a password.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Config{}, errors.New("SMTP URL: not a valid URL; expected smtp://user:password@host:587?from=alinea@example.com")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.TLS = StartTLS
	case "smtps":
		c.TLS = TLS
	default:
		return Config{}, fmt.Errorf("SMTP URL: scheme must be smtp or smtps; got %q", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("SMTP URL: no host")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for name := range q {
		if name != "from" && name != "tls" && name != "helo" {
			return Config{}, fmt.Errorf("SMTP URL: unknown parameter %q; known: from, tls, helo", name)
		}
	}
	if v := q.Get("tls"); v != "" {
		if v != StartTLS && v != TLS && v != NoTLS {
			return Config{}, fmt.Errorf("SMTP URL: tls must be starttls, tls or none; got %q", v)
		}
		c.TLS = v
	}
	switch p := u.Port(); {
	case p != "":
		c.Port, err = strconv.Atoi(p)
		if err != nil || c.Port < 1 || c.Port > 65535 {
			return Config{}, fmt.Errorf("SMTP URL: port must be 1 to 65535; got %q", p)
		}
	case c.TLS == TLS:
		c.Port = 465
	case c.TLS == StartTLS:
		c.Port = 587
	default:
		c.Port = 25
	}
	from := q.Get("from")
	if from == "" {
		return Config{}, errors.New("SMTP URL: from is required, e.g. ?from=alinea@example.com")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return Config{}, fmt.Errorf("SMTP URL: from %q is not an email address", from)
	}
	c.From = *addr
	c.Helo = q.Get("helo")
	return c, nil
}

// String describes the configuration with the password masked, for logs.
func (c Config) String() string {
	user := ""
	if c.Username != "" {
		user = url.User(c.Username).String()
		if c.Password != "" {
			user += ":***"
		}
		user += "@"
	}
	return fmt.Sprintf("smtp://%s%s?from=%s&tls=%s", user, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.From.Address, c.TLS)
}

// Message is one email to one person, in two versions of the same text.
type Message struct {
	To      mail.Address
	Subject string
	Text    string
	HTML    string
	// Language is the Content-Language (es, en).
	Language string
	// Headers are extra headers, e.g. X-Alinea-Delivery.
	Headers map[string]string
}

// Mailer sends messages; it is safe for concurrent use (each message has
// its own connection: notifications are few).
type Mailer struct {
	cfg  Config
	now  func() time.Time
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a mailer for cfg.
func New(cfg Config) *Mailer {
	if cfg.Helo == "" {
		cfg.Helo = "localhost"
	}
	d := &net.Dialer{Timeout: Timeout}
	return &Mailer{cfg: cfg, now: time.Now, dial: d.DialContext}
}

// Open parses an SMTP URL and returns a mailer for it.
func Open(raw string) (*Mailer, error) {
	cfg, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Config returns the mailer's configuration.
func (m *Mailer) Config() Config { return m.cfg }

// Send delivers msg, or says at which step the server refused it.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	body, err := m.compose(msg)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	fail := func(step string, err error) error { return fmt.Errorf("smtp %s: %s: %w", addr, step, err) }
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	conn, err := m.dial(ctx, "tcp", addr)
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// A cancelled context (shutdown) ends the dialogue at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	tlsConfig := &tls.Config{ServerName: m.cfg.Host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	if m.cfg.TLS == TLS {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		return fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(m.cfg.Helo); err != nil {
		return fail("EHLO", err)
	}
	if m.cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail("STARTTLS", errors.New("the server does not offer STARTTLS; use tls=tls for implicit TLS, or tls=none to send unencrypted"))
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if m.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail("AUTH", errors.New("a user name is configured but the server offers no authentication"))
		}
		// PlainAuth refuses to send the password unencrypted to anything
		// but this machine.
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			return fail("AUTH", err)
		}
	}
	if err := c.Mail(m.cfg.From.Address); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := c.Rcpt(msg.To.Address); err != nil {
		return fail("RCPT TO <"+msg.To.Address+">", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(body); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted at the end of DATA; a failed QUIT does
		// not unsend it.
		return nil
	}
	return nil
}

// compose writes the message: headers and a multipart/alternative body
// with the plain text first and the HTML last (the part clients prefer).
func (m *Mailer) compose(msg Message) ([]byte, error) {
	if _, err := mail.ParseAddress(msg.To.Address); err != nil {
		return nil, fmt.Errorf("smtp: recipient %q is not an email address", msg.To.Address)
	}
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k + ": " + oneLine(v) + "\r\n")
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	domain := m.cfg.From.Address[strings.LastIndexByte(m.cfg.From.Address, '@')+1:]
	header("From", m.cfg.From.String())
	header("To", msg.To.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject)))
	header("Date", m.now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	// RFC 3834: automatic notifications; out-of-office replies stay away.
	header("Auto-Submitted", "auto-generated")
	if msg.Language != "" {
		header("Content-Language", msg.Language)
	}
	for k, v := range msg.Headers {
		header(textproto.CanonicalMIMEHeaderKey(oneLine(k)), v)
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, text string }{{"text/plain", msg.Text}, {"text/html", msg.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.text)); err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("smtp: compose: %w", err)
	}
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line, so that no value can add
// headers of its own.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}
