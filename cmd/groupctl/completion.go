package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// leaf is a command that runs, with its path ("group list") and flags.
type leaf struct {
	path  []string
	flags []string // "--name", "-o"
}

// leaves walks the command tree; each command's flags are those its own
// flag set declares (the command is asked for its help, which has no other
// effect), so completions cannot drift from the commands.
func (a *app) leaves() []leaf {
	var out []leaf
	var walk func(prefix []string, cs []*command)
	walk = func(prefix []string, cs []*command) {
		for _, c := range cs {
			path := append(append([]string{}, prefix...), c.name)
			if len(c.subs) > 0 {
				walk(path, c.subs)
				continue
			}
			probe := &app{env: &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
				getenv: func(string) string { return "" }}, ctx: a.ctx}
			_ = c.run(probe, []string{"-h"})
			var flags []string
			if probe.lastFlags != nil {
				probe.lastFlags.VisitAll(func(f *flag.Flag) {
					if len(f.Name) == 1 {
						flags = append(flags, "-"+f.Name)
					} else {
						flags = append(flags, "--"+f.Name)
					}
				})
			}
			sort.Strings(flags)
			out = append(out, leaf{path, flags})
		}
	}
	walk(nil, commandTree())
	return out
}

func (a *app) cmdCompletion(args []string) error {
	fs := a.flags("completion", "bash|zsh|fish\n\n  bash: source <(groupctl completion bash)\n"+
		"  zsh:  source <(groupctl completion zsh)\n  fish: groupctl completion fish | source")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	switch pos[0] {
	case "bash":
		a.bashCompletion(&b)
	case "zsh":
		// zsh runs the bash completion through its bashcompinit layer.
		b.WriteString("#compdef groupctl\nautoload -U +X bashcompinit && bashcompinit\n")
		a.bashCompletion(&b)
	case "fish":
		a.fishCompletion(&b)
	default:
		return usagef("completion: bash, zsh or fish expected, not %q", pos[0])
	}
	_, err = a.stdout.Write(b.Bytes())
	return err
}

func (a *app) bashCompletion(w io.Writer) {
	top := commandTree()
	var names []string
	for _, c := range top {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `# bash completion for groupctl
_groupctl() {
  local cur="${COMP_WORDS[COMP_CWORD]}" flags="" subs=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "%s --help --version" -- "$cur")); return
  fi
  case "${COMP_WORDS[1]}" in
`, strings.Join(names, " "))
	leaves := a.leaves()
	for _, c := range top {
		pattern := strings.Join(append([]string{c.name}, c.aliases...), "|")
		if len(c.subs) == 0 {
			fmt.Fprintf(w, "    %s) flags=%q ;;\n", pattern, strings.Join(flagsOf(leaves, c.name), " "))
			continue
		}
		var subs []string
		for _, sc := range c.subs {
			subs = append(subs, sc.name)
		}
		fmt.Fprintf(w, "    %s)\n      subs=%q\n      case \"${COMP_WORDS[2]}\" in\n", pattern, strings.Join(subs, " "))
		for _, sc := range c.subs {
			fmt.Fprintf(w, "        %s) flags=%q ;;\n", sc.name, strings.Join(flagsOf(leaves, c.name, sc.name), " "))
		}
		fmt.Fprint(w, "      esac ;;\n")
	}
	fmt.Fprint(w, `  esac
  if [ "$COMP_CWORD" -eq 2 ] && [ -n "$subs" ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur")); return
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _groupctl groupctl
`)
}

func (a *app) fishCompletion(w io.Writer) {
	fmt.Fprintln(w, "# fish completion for groupctl\ncomplete -c groupctl -f")
	top := commandTree()
	for _, c := range top {
		fmt.Fprintf(w, "complete -c groupctl -n '__fish_use_subcommand' -a %s -d %q\n", c.name, c.summary)
	}
	leaves := a.leaves()
	for _, c := range top {
		if len(c.subs) == 0 {
			fishFlags(w, "__fish_seen_subcommand_from "+c.name, flagsOf(leaves, c.name))
			continue
		}
		var subs []string
		for _, sc := range c.subs {
			subs = append(subs, sc.name)
		}
		for _, sc := range c.subs {
			fmt.Fprintf(w, "complete -c groupctl -n '__fish_seen_subcommand_from %s; and not __fish_seen_subcommand_from %s' -a %s -d %q\n",
				c.name, strings.Join(subs, " "), sc.name, sc.summary)
			fishFlags(w, fmt.Sprintf("__fish_seen_subcommand_from %s; and __fish_seen_subcommand_from %s", c.name, sc.name),
				flagsOf(leaves, c.name, sc.name))
		}
	}
	// Files for import.
	fmt.Fprintln(w, "complete -c groupctl -n '__fish_seen_subcommand_from import' -F")
}

func fishFlags(w io.Writer, cond string, flags []string) {
	for _, f := range flags {
		if strings.HasPrefix(f, "--") {
			fmt.Fprintf(w, "complete -c groupctl -n '%s' -l %s\n", cond, f[2:])
		} else {
			fmt.Fprintf(w, "complete -c groupctl -n '%s' -s %s\n", cond, f[1:])
		}
	}
}

func flagsOf(leaves []leaf, path ...string) []string {
	for _, l := range leaves {
		if strings.Join(l.path, " ") == strings.Join(path, " ") {
			return l.flags
		}
	}
	return nil
}
