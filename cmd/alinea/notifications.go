package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/smtp"
	"github.com/alinea-crm/alinea/store"
)

// notifyFlags registers how notifications leave: --smtp-url for email and
// --base-url for the links in it (serve and demo).
func notifyFlags(e *env, fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.SMTPURL, "smtp-url", envDefault(e, "smtp-url", ""),
		"SMTP server for notification emails, e.g. smtp://user:pass@mail.example.com:587?from=alinea@example.com&tls=starttls (tls: starttls, tls or none); empty: emails wait unsent (ALINEA_SMTP_URL)")
	fs.StringVar(&c.BaseURL, "base-url", envDefault(e, "base-url", ""),
		"the address people open Alinea at, e.g. https://alinea.example.com, for links in emails (ALINEA_BASE_URL)")
	fs.BoolVar(&c.WebhookPrivateNetworks, "webhook-private-networks", envDefault(e, "webhook-private-networks", "") == "true",
		"let webhooks go to loopback, private and link-local addresses (receivers on Alinea's own network); off: public addresses only (ALINEA_WEBHOOK_PRIVATE_NETWORKS=true)")
}

// checkNotifyFlags validates the notification flags; errors never repeat
// the SMTP URL, which may hold a password.
func checkNotifyFlags(c *config) error {
	if c.SMTPURL != "" {
		if _, err := smtp.ParseURL(c.SMTPURL); err != nil {
			return fmt.Errorf("--smtp-url (ALINEA_SMTP_URL): %w", err)
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--base-url (ALINEA_BASE_URL): must be an absolute http:// or https:// URL such as https://alinea.example.com; got %q", c.BaseURL)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	return nil
}

// maskedSMTP describes the SMTP configuration for logs, password masked.
func (c config) maskedSMTP() string {
	if c.SMTPURL == "" {
		return "none"
	}
	cfg, err := smtp.ParseURL(c.SMTPURL)
	if err != nil {
		return "invalid"
	}
	return cfg.String()
}

// registerDeliveryWorkers adds the notification delivery jobs.
func registerDeliveryWorkers(w *river.Workers, st *store.Store, c config, log *slog.Logger) error {
	deliver, due, err := jobs.DeliveryWorkers(st, jobs.DeliveryConfig{SMTPURL: c.SMTPURL, BaseURL: c.BaseURL, Version: version,
		WebhookPrivateNetworks: c.WebhookPrivateNetworks}, log)
	if err != nil {
		return err
	}
	if deliver.Mailer == nil {
		log.Warn("no SMTP server configured: notification emails wait unsent until --smtp-url or ALINEA_SMTP_URL is set")
	}
	river.AddWorker(w, deliver)
	river.AddWorker(w, due)
	return nil
}
