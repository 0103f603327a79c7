package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/pintu/pintu/controller"
)

type demoPerson struct {
	controller.Person
	card string
}

var demoPeople = []demoPerson{
	{controller.Person{ID: "adi", Name: "Adi Saputra", Roles: []controller.Role{controller.RoleAdmin}}, "1001"},
	{controller.Person{ID: "citra", Name: "Citra Lestari", Roles: []controller.Role{controller.RoleCoordinator}}, "1002"},
	{controller.Person{ID: "hasan", Name: "Hasan Basri", Roles: []controller.Role{controller.RoleHead}}, "1003"},
	{controller.Person{ID: "oki", Name: "Oki Pratama", Roles: []controller.Role{controller.RoleOfficer}}, "1004"},
	{controller.Person{ID: "vina", Name: "Vina Maharani", Roles: []controller.Role{controller.RoleVisitor},
		Org: "PT Jaringan Nusantara", IDDoc: "KTP 1702xxxxxxxxxxxx"}, "2001"},
}

// demoActor is who seeds the demo: nobody authenticated, and the log says
// so (via unauthenticated-sim).
func demoActor(person string) controller.Actor {
	return controller.Actor{Person: person, Via: controller.ViaSocket, Unauthenticated: true}
}

// seedDemo adds the demo cast and an approved visit, once: running it again
// on the same state directory changes nothing.
func seedDemo(ctx context.Context, c *controller.Controller, out io.Writer, socket string) error {
	for _, p := range demoPeople {
		if _, err := c.Person(ctx, p.ID); err == nil {
			continue
		}
		if err := c.AddPerson(ctx, p.Person, demoActor("")); err != nil {
			return err
		}
		if err := c.AssignCard(ctx, p.card, p.ID, demoActor("")); err != nil && !errors.Is(err, controller.ErrExists) {
			return err
		}
	}
	visits, err := c.Visits(ctx, controller.StateApproved, controller.Page{})
	if err != nil {
		return err
	}
	visit := ""
	if len(visits) > 0 {
		visit = visits[0].ID
	} else {
		v, err := c.SubmitVisit(ctx, controller.VisitForm{VisitorID: "vina", Purpose: "Ganti disk di rak 3 / replace a disk in rack 3", Devices: "laptop, 1 SSD"}, demoActor("adi"))
		if err != nil {
			return err
		}
		if _, err := c.Step(ctx, v.ID, controller.ActionCheck, demoActor("citra"), ""); err != nil {
			return err
		}
		if _, err := c.Step(ctx, v.ID, controller.ActionApprove, demoActor("hasan"), ""); err != nil {
			return err
		}
		visit = v.ID
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDemo people and cards:")
	fmt.Fprintln(tw, "  PERSON\tROLE\tCARD")
	for _, p := range demoPeople {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.ID, p.Roles[0], p.card)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nVisit %s for vina is approved. In another terminal, walk it in with an escort:\n", visit)
	if abs, err := filepath.Abs(socket); err == nil {
		socket = abs
	}
	fmt.Fprintf(out, "  export PINTU_SOCKET=%s\n", socket)
	fmt.Fprintf(out, "  pintuctl sim tap --door server-room --reader entry --card 2001   # vina: pending, waits for an escort\n")
	fmt.Fprintf(out, "  pintuctl sim tap --door server-room --reader entry --card 1004   # oki: both let in\n")
	fmt.Fprintf(out, "  pintuctl status\n\n")
	return nil
}
