package main

import (
	"context"
	"fmt"
	"net"

	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

func runServe(ctx context.Context, e *env, args []string) error {
	var c config
	fs := newFlags(e, "serve")
	commonFlags(e, fs, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, log, true)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	log.Info("alinea serving", "url", "http://"+ln.Addr().String(), "config", c.String())
	return serve(ctx, st, ln, c, e)
}

func serve(ctx context.Context, st *store.Store, ln net.Listener, c config, e *env) error {
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{Store: st, Logger: log})
	return srv.ListenAndServe(ctx, ln)
}
