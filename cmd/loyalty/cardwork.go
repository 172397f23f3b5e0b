package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// actionSpec is a card action as the command line names it.
type actionSpec struct {
	names []string // the API's name first, then the SDK method's, in kebab case
	args  string   // what follows the action's name, for usage
	// setter marks an action that sets a state rather than moving a balance: it takes no
	// reference (the API stores no comment for it) and applying it twice changes nothing more.
	setter bool
	// spends marks what takes something from the customer: confirmed before it is sent.
	spends bool
	bind   func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error)
}

// wholeN binds an action that takes a count.
func wholeN(f func(context.Context, string, int, *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error)) func(*loyalty.CardsService, []string) (loyalty.ActionFunc, error) {
	return func(_ *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
		n, err := strconv.Atoi(argv[0])
		if err != nil {
			return nil, usagef("%q: want a whole number", argv[0])
		}
		return loyalty.Bind(f, n), nil
	}
}

// amount binds an action that takes an amount with decimals.
func amount(f func(context.Context, string, float64, *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error)) func(*loyalty.CardsService, []string) (loyalty.ActionFunc, error) {
	return func(_ *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
		x, err := strconv.ParseFloat(argv[0], 64)
		if err != nil {
			return nil, usagef("%q: want an amount, such as 12.50", argv[0])
		}
		return loyalty.Bind(f, x), nil
	}
}

// actionSpecs lists every card action the command applies; the SDK checks each against the
// card's type before it is sent.
func actionSpecs(c *loyalty.CardsService) []actionSpec {
	return []actionSpec{
		{names: []string{"add-transaction-amount", "add-amount"}, args: "UNITS", bind: wholeN(c.AddAmount)},
		{names: []string{"subtract-transaction-amount", "subtract-amount"}, args: "UNITS", spends: true, bind: wholeN(c.SubtractAmount)},
		{names: []string{"add-point", "add-points"}, args: "AMOUNT", bind: amount(c.AddPoints)},
		{names: []string{"subtract-point", "subtract-points"}, args: "AMOUNT", spends: true, bind: amount(c.SubtractPoints)},
		{names: []string{"add-reward", "add-rewards"}, args: "N", bind: wholeN(c.AddRewards)},
		{names: []string{"subtract-reward", "subtract-rewards"}, args: "N", spends: true, bind: wholeN(c.SubtractRewards)},
		{names: []string{"add-scores"}, args: "N", bind: wholeN(c.AddScores)},
		{names: []string{"subtract-scores"}, args: "N", spends: true, bind: wholeN(c.SubtractScores)},
		{names: []string{"add-stamp", "add-stamps"}, args: "N", bind: wholeN(c.AddStamps)},
		{names: []string{"subtract-stamp", "subtract-stamps"}, args: "N", spends: true, bind: wholeN(c.SubtractStamps)},
		{names: []string{"add-visit", "add-visits"}, args: "N", bind: wholeN(c.AddVisits)},
		{names: []string{"subtract-visit", "subtract-visits"}, args: "N", spends: true, bind: wholeN(c.SubtractVisits)},
		{names: []string{"add-purchase"}, args: "AMOUNT", bind: amount(c.AddPurchase)},
		{names: []string{"subtract-purchase"}, args: "AMOUNT", spends: true, bind: amount(c.SubtractPurchase)},
		{names: []string{"receive-reward"}, args: "TIER", spends: true, bind: wholeN(c.ReceiveReward)},
		{names: []string{"redeem-coupon"}, spends: true,
			bind: func(c *loyalty.CardsService, _ []string) (loyalty.ActionFunc, error) { return c.RedeemCoupon, nil }},
		{names: []string{"set-membership-tier"}, args: "TIER PERIOD", setter: true,
			bind: func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
				tier, err := intArg("tier", argv[0])
				if err != nil {
					return nil, err
				}
				period := loyalty.MembershipPeriod(argv[1])
				return func(ctx context.Context, id string, o *loyalty.ActionOptions) (*loyalty.Card, *loyalty.Response, error) {
					return c.SetMembershipTier(ctx, id, tier, period, o)
				}, nil
			}},
		{names: []string{"set-expiration-date"}, args: "DATE", setter: true,
			bind: func(c *loyalty.CardsService, argv []string) (loyalty.ActionFunc, error) {
				t, err := time.Parse(time.RFC3339, argv[0])
				if err != nil {
					d, derr := time.Parse(time.DateOnly, argv[0])
					if derr != nil {
						return nil, usagef("%q: want a date, 2027-01-31, or a time, 2027-01-31T18:00:00+01:00", argv[0])
					}
					t = d
				}
				return loyalty.Bind(c.SetExpirationDate, t), nil
			}},
		{names: []string{"clear-expiration-date"}, setter: true,
			bind: func(c *loyalty.CardsService, _ []string) (loyalty.ActionFunc, error) {
				return c.ClearExpirationDate, nil
			}},
	}
}

// argCount is how many arguments follow an action's name.
func (s actionSpec) argCount() int { return len(strings.Fields(s.args)) }

// confirm asks before what cannot be undone: on a terminal, a question; elsewhere, --yes.
func (a *app) confirm(what string, yes bool) error {
	if yes {
		return nil
	}
	if !a.askable {
		return usagef("%s cannot be undone: add --yes to do it without a terminal (nothing was sent)", what)
	}
	fmt.Fprintf(a.err, "%s cannot be undone. Go ahead? [y/N] ", what)
	line, _ := bufio.NewReader(a.in).ReadString('\n')
	if s := strings.ToLower(strings.TrimSpace(line)); s != "y" && s != "yes" {
		return errors.New("not confirmed: nothing was sent")
	}
	return nil
}

var actionResultCols = append(slices.Clone(cardCols), "alreadyApplied")

func (a *app) applyCmd() *cobra.Command {
	var ref, comment string
	var yes bool
	var names []string
	for _, s := range actionSpecs(nil) {
		names = append(names, strings.TrimSpace(s.names[0]+" "+s.args))
	}
	c := &cobra.Command{
		Use:   "apply CARD ACTION [ARGS] --reference REF",
		Short: "Apply a card action by name, at most once per reference",
		Long: "Apply a card action by name: the SDK checks it against the card's type before anything is sent,\n" +
			"and applies it at most once per --reference (a receipt or ticket id), finding a lost answer in\n" +
			"the card's history. Names: the API's (add-stamp) or the SDK's (add-stamps). Actions:\n  " +
			strings.Join(names, "\n  "),
		Args: cobra.MinimumNArgs(2),
		RunE: a.do(func(cmd *cobra.Command, argv []string) error {
			card, name := argv[0], argv[1]
			api, err := a.api()
			if err != nil {
				return err
			}
			i := slices.IndexFunc(actionSpecs(api.Cards), func(s actionSpec) bool { return slices.Contains(s.names, name) })
			if i < 0 {
				return usagef("no card action %q; run 'loyalty cards apply --help' for the list", name)
			}
			spec := actionSpecs(api.Cards)[i]
			if len(argv)-2 != spec.argCount() {
				return usagef("%s takes %s", name, cmp(spec.args, "no argument"))
			}
			f, err := spec.bind(api.Cards, argv[2:])
			if err != nil {
				return err
			}
			if !spec.setter && ref == "" {
				return usagef("%s needs --reference (a receipt or ticket id): it is applied at most once per reference", name)
			}
			if spec.spends {
				if err := a.confirm(name+" on card "+card, yes); err != nil {
					return err
				}
			}
			opts := &loyalty.ActionOptions{Comment: comment}
			var after *loyalty.Card
			if spec.setter {
				after, _, err = f(cmd.Context(), card, opts)
			} else {
				opts.Reference = ref
				after, _, err = api.Cards.ApplyOnce(cmd.Context(), card, f, opts, nil)
			}
			already := errors.Is(err, loyalty.ErrAlreadyApplied)
			if err != nil && !already {
				return err
			}
			if already {
				fmt.Fprintf(a.err, "reference %s was applied to card %s before: nothing sent\n", ref, card)
			}
			if after == nil {
				after = &loyalty.Card{ID: card}
			}
			return one(a, actionResultCols, after, func(c *loyalty.Card) []any { return append(cardRow(c), already) })
		}),
	}
	c.Flags().StringVar(&ref, "reference", "", "your id for this action (receipt, ticket): applied at most once per reference")
	c.Flags().StringVar(&comment, "comment", "", "stored with the operation in the card's history")
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do what cannot be undone (subtract, redeem) without asking")
	return c
}

// cmp is a, or b when a is empty.
func cmp(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

func (a *app) purchaseCmd() *cobra.Command {
	var req loyalty.PurchaseRequest
	c := &cobra.Command{
		Use:   "purchase [CARD] --amount AMOUNT --receipt RECEIPT",
		Short: "Record a purchase on a card, at most once per receipt",
		Long: "Record a purchase: the action that fits the card's type and template (points on a cashback card,\n" +
			"a stamp on a stamp card, a visit on a membership card, ...), applied at most once per receipt.\n" +
			"The card by its id, or by --phone or --email with --template; --issue issues one when the customer\n" +
			"has none.",
		Args: cobra.MaximumNArgs(1),
		RunE: a.do(func(cmd *cobra.Command, argv []string) error {
			if len(argv) == 1 {
				req.CardID = argv[0]
			}
			if req.CardID == "" && req.CustomerPhone == "" && req.CustomerEmail == "" {
				return usagef("purchase needs a card id, or --phone or --email with --template")
			}
			api, err := a.api()
			if err != nil {
				return err
			}
			res, _, err := api.Cards.Purchase(cmd.Context(), &req, nil)
			if err != nil {
				return err
			}
			id := req.CardID
			if res.Card != nil {
				id = res.Card.ID
			}
			action := ""
			if res.Action != 0 {
				action = res.Action.String()
			}
			if res.AlreadyRecorded {
				fmt.Fprintf(a.err, "receipt %s was recorded before: nothing sent\n", req.Receipt)
			}
			t := a.table("card", "action", "quantity", "quantityUnit", "balance", "balanceUnit", "rewardAvailable", "alreadyRecorded", "issued")
			if err := t.row(id, action, res.Quantity, res.QuantityUnit, res.Balance, res.BalanceUnit, res.RewardAvailable, res.AlreadyRecorded, res.Issued); err != nil {
				return err
			}
			return t.flush()
		}),
	}
	f := c.Flags()
	f.Float64Var(&req.Amount, "amount", 0, "the purchase, in the account's currency (12.50)")
	f.StringVar(&req.Receipt, "receipt", "", "the receipt's id: the purchase is recorded at most once per receipt")
	f.StringVar(&req.CustomerPhone, "phone", "", "find the card by the customer's phone (with --template)")
	f.StringVar(&req.CustomerEmail, "email", "", "find the card by the customer's email (with --template)")
	f.IntVar(&req.TemplateID, "template", 0, "the template the card was issued from")
	f.BoolVar(&req.IssueCard, "issue", false, "issue a card (and create the customer) when none is found")
	f.StringVar(&req.FirstName, "first-name", "", "the new customer's first name, with --issue")
	f.StringVar(&req.Comment, "comment", "", "stored with the operation")
	_ = c.MarkFlagRequired("amount")
	_ = c.MarkFlagRequired("receipt")
	return c
}
