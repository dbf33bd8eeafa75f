package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	var c config
	fs := newFlags(e, "migrate")
	commonFlags(e, fs, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, _, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "database is up to date")
		return nil
	}
	fmt.Fprintf(e.stdout, "applied migrations %v\n", applied)
	return nil
}

func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return errors.New("usage: alinea user add --email EMAIL --name NAME --role admin|marketing|sales|manager --password PASSWORD | alinea user list")
	}
	var c config
	var u alinea.NewUser
	var role string
	fs := newFlags(e, "user "+args[0])
	commonFlags(e, fs, &c)
	if args[0] == "add" {
		fs.StringVar(&u.Email, "email", "", "email address (sign-in name)")
		fs.StringVar(&u.Name, "name", "", "full name")
		fs.StringVar(&role, "role", "", "admin, marketing, sales or manager")
		fs.StringVar(&u.Password, "password", envDefault(e, "password", ""), "password, at least 10 characters (ALINEA_PASSWORD)")
		fs.StringVar(&u.Locale, "locale", "es", "interface language: es or en")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "list" {
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tLOCALE")
		for _, u := range users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, u.Locale)
		}
		return tw.Flush()
	}
	u.Role = alinea.Role(role)
	created, err := st.CreateUser(ctx, u)
	if err != nil {
		return describeErr(err)
	}
	fmt.Fprintf(e.stdout, "created user %d %s (%s)\n", created.ID, created.Email, created.Role)
	return nil
}

func runAPIKey(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: alinea apikey create --user EMAIL --name NAME")
	}
	var c config
	var email, name string
	fs := newFlags(e, "apikey create")
	commonFlags(e, fs, &c)
	fs.StringVar(&email, "user", "", "email of the user the key acts as")
	fs.StringVar(&name, "name", "", "a name to tell the key apart")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return describeErr(fmt.Errorf("--user: %w", err))
	}
	k, secret, err := st.CreateAPIKey(ctx, u.ID, name)
	if err != nil {
		return describeErr(err)
	}
	fmt.Fprintf(e.stdout, "created API key %d %q for %s; it is shown once:\n%s\n", k.ID, k.Name, u.Email, secret)
	return nil
}

func runWriteKey(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: alinea writekey create --name NAME")
	}
	var c config
	var name string
	fs := newFlags(e, "writekey create")
	commonFlags(e, fs, &c)
	fs.StringVar(&name, "name", "", "the source this key is for, e.g. website")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, _, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	k, secret, err := st.CreateWriteKey(ctx, name)
	if err != nil {
		return describeErr(err)
	}
	fmt.Fprintf(e.stdout, "created write key %d %q; it is shown once:\n%s\n", k.ID, k.Name, secret)
	return nil
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fmt.Fprintln(e.stdout, "alinea", version)
	return nil
}
