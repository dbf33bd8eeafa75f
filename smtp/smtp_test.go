package smtp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea/smtp"
	"github.com/alinea-crm/alinea/smtp/smtptest"
)

func TestParseURL(t *testing.T) {
	ok := []struct {
		raw  string
		want string
		port int
		tls  string
	}{
		{"smtp://mail.example.com?from=alinea@example.com", "smtp://mail.example.com:587?from=alinea@example.com&tls=starttls", 587, smtp.StartTLS},
		{"smtps://u:s3cret@mail.example.com?from=alinea@example.com", "smtp://u:***@mail.example.com:465?from=alinea@example.com&tls=tls", 465, smtp.TLS},
		{"smtp://127.0.0.1?from=alinea@example.com&tls=none", "smtp://127.0.0.1:25?from=alinea@example.com&tls=none", 25, smtp.NoTLS},
		{"smtp://user%40corp:p%40ss@mail.example.com:2525?from=Alinea%20%3Calinea@example.com%3E&tls=tls", "smtp://user%40corp:***@mail.example.com:2525?from=alinea@example.com&tls=tls", 2525, smtp.TLS},
	}
	for _, tc := range ok {
		c, err := smtp.ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if c.String() != tc.want || c.Port != tc.port || c.TLS != tc.tls {
			t.Errorf("ParseURL(%q) = %s (port %d, tls %s); want %s", tc.raw, c, c.Port, c.TLS, tc.want)
		}
	}
	c, _ := smtp.ParseURL("smtp://user%40corp:p%40ss@mail.example.com?from=Alinea%20%3Calinea@example.com%3E")
	if c.Username != "user@corp" || c.Password != "p@ss" || c.From.Name != "Alinea" || c.From.Address != "alinea@example.com" {
		t.Errorf("decoded %+v", c)
	}
	bad := []struct{ raw, want string }{
		{"http://mail.example.com?from=a@example.com", "scheme"},
		{"smtp://?from=a@example.com", "no host"},
		{"smtp://mail.example.com", "from is required"},
		{"smtp://mail.example.com?from=nobody", "not an email address"},
		{"smtp://mail.example.com?from=a@example.com&tls=ssl", "tls must be"},
		{"smtp://mail.example.com:99999?from=a@example.com", "port"},
		{"smtp://mail.example.com?from=a@example.com&form=b", "unknown parameter"},
		{"smtp://u:hunter2@mail.example.com:port?from=a@example.com", "not a valid URL"},
	}
	for _, tc := range bad {
		_, err := smtp.ParseURL(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q): got %v, want an error about %q", tc.raw, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q): the error shows the password: %v", tc.raw, err)
		}
	}
}

func message() smtp.Message {
	return smtp.Message{
		To:       mail.Address{Name: "Ana Ruiz", Address: "ana@example.es"},
		Subject:  "Plazo incumplido: aceptar el MQL de José Núñez",
		Text:     "Hola Ana,\n\nEl plazo venció el 2 de marzo. Línea larga " + strings.Repeat("más ", 40) + "\n",
		HTML:     `<p>Hola Ana,</p><p>El plazo <strong>venció</strong> el 2 de marzo.</p>`,
		Language: "es",
		Headers:  map[string]string{"X-Alinea-Delivery": "42"},
	}
}

func TestSendPlainTextAndHTML(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := smtp.Open(srv.URL("Alinea <alinea@example.com>"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 10*time.Second)[0]
	want := message()
	if got.From != "alinea@example.com" || len(got.To) != 1 || got.To[0] != "ana@example.es" {
		t.Errorf("envelope from %q to %v", got.From, got.To)
	}
	if got.Subject != want.Subject {
		t.Errorf("subject %q, want %q", got.Subject, want.Subject)
	}
	if got.Text != want.Text {
		t.Errorf("text part %q, want %q", got.Text, want.Text)
	}
	if got.HTML != want.HTML {
		t.Errorf("HTML part %q, want %q", got.HTML, want.HTML)
	}
	to, err := got.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Ana Ruiz" || to[0].Address != "ana@example.es" {
		t.Errorf("To header %v, %v", to, err)
	}
	from, _ := got.Header.AddressList("From")
	if len(from) != 1 || from[0].Name != "Alinea" {
		t.Errorf("From header %v", from)
	}
	for k, v := range map[string]string{"Content-Language": "es", "Auto-Submitted": "auto-generated", "X-Alinea-Delivery": "42", "Mime-Version": "1.0"} {
		if got.Header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
		}
	}
	if got.Header.Get("Message-Id") == "" || got.Header.Get("Date") == "" {
		t.Errorf("no Message-ID or Date: %v", got.Header)
	}
	if strings.Index(string(got.Raw), "text/plain") > strings.Index(string(got.Raw), "text/html") {
		t.Error("the HTML part comes before the text part; clients show the last part they understand")
	}
}

func TestSendDoesNotLetASubjectAddHeaders(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, _ := smtp.Open(srv.URL("alinea@example.com"))
	msg := message()
	msg.Subject = "Hola\r\nBcc: victim@example.com"
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 10*time.Second)[0]
	if got.Header.Get("Bcc") != "" || !strings.Contains(got.Subject, "Bcc: victim") {
		t.Errorf("subject %q, Bcc %q", got.Subject, got.Header.Get("Bcc"))
	}
}

func TestSendWithSTARTTLSAndAuth(t *testing.T) {
	// httptest's certificate is valid for 127.0.0.1.
	https := httptest.NewUnstartedServer(nil)
	https.StartTLS()
	defer https.Close()
	srv := smtptest.Start(t, smtptest.Options{Username: "alinea", Password: "s3cret-pass", TLS: &tls.Config{Certificates: https.TLS.Certificates}})
	cfg, err := smtp.ParseURL(srv.URL("alinea@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS != smtp.StartTLS {
		t.Fatalf("tls %s", cfg.TLS)
	}
	pool := x509.NewCertPool()
	pool.AddCert(https.Certificate())
	cfg.RootCAs = pool
	if err := smtp.New(cfg).Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1, 10*time.Second)

	// A certificate nobody vouches for is refused.
	cfg.RootCAs = x509.NewCertPool()
	if err := smtp.New(cfg).Send(context.Background(), message()); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("untrusted certificate: got %v, want a STARTTLS error", err)
	}
	// A wrong password says so without showing it.
	cfg.RootCAs = pool
	cfg.Password = "wrong-pass-123"
	err = smtp.New(cfg).Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "wrong-pass-123") {
		t.Errorf("wrong password: got %v", err)
	}
}

func TestSendFailures(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	m, _ := smtp.Open("smtp://u:hunter2-pass@" + closed + "?from=alinea@example.com&tls=none")
	err = m.Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "connect") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable server: got %v, want a connect error without the password", err)
	}

	// STARTTLS required but not offered: refused rather than sent in clear.
	plain := smtptest.Start(t, smtptest.Options{})
	m, _ = smtp.Open("smtp://" + plain.Addr + "?from=alinea@example.com&tls=starttls")
	if err := m.Send(context.Background(), message()); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("no STARTTLS: got %v", err)
	}

	// The server refuses the recipient.
	rejecting := smtptest.Start(t, smtptest.Options{Reject: "no such mailbox"})
	m, _ = smtp.Open(rejecting.URL("alinea@example.com"))
	if err := m.Send(context.Background(), message()); err == nil || !strings.Contains(err.Error(), "RCPT TO <ana@example.es>") || !strings.Contains(err.Error(), "no such mailbox") {
		t.Errorf("rejected recipient: got %v", err)
	}
	if n := len(plain.Messages()) + len(rejecting.Messages()); n != 0 {
		t.Errorf("%d messages arrived, want none", n)
	}

	// A stopped context stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, _ = smtp.Open(plain.URL("alinea@example.com"))
	if err := m.Send(ctx, message()); err == nil {
		t.Error("cancelled context: no error")
	}
}
