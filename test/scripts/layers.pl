#!/usr/bin/perl
#
# layers.pl SRC_DIR -- the files of SRC_DIR form layers: no cycle of
# #include "..." between its modules (X.c and X.h are module X), and no
# cycle of C files that call each other's exported functions (a function is
# exported where its name starts a line after a line holding its return
# type, as pgindent lays definitions out, and that line is not "static").
# Prints each cycle found and exits 1; prints "no cycles" and exits 0.
#
use strict;
use warnings;

my $src = shift @ARGV or die "usage: layers.pl SRC_DIR\n";
opendir(my $dh, $src) or die "cannot open $src: $!\n";
my @files = sort grep { /\.[ch]$/ } readdir($dh);
closedir($dh);

my (%text, %include, %defines, %uses);
for my $f (@files)
{
	open(my $fh, '<', "$src/$f") or die "cannot read $src/$f: $!\n";
	local $/;
	$text{$f} = <$fh>;
	close($fh);
}

sub module { my ($f) = @_; $f =~ s/\.[ch]$//; return $f; }

# includes between modules
for my $f (@files)
{
	my $m = module($f);
	while ($text{$f} =~ /^#\s*include\s+"([^"]+)\.h"/mg)
	{
		next if $1 eq $m || !exists $text{"$1.h"};
		$include{$m}{$1} = 1;
	}
}

# exported function definitions and their uses
my %owner;
for my $f (grep { /\.c$/ } @files)
{
	my @lines = split /\n/, $text{$f};
	for my $i (1 .. $#lines)
	{
		next unless $lines[$i] =~ /^([A-Za-z_]\w*)\s*\(/;
		my $name = $1;
		next if $name =~ /^(if|while|for|switch|return|PG_FUNCTION_INFO_V1)$/;
		my $prev = $lines[ $i - 1 ];
		next if $prev =~ /^\s*$/ || $prev =~ /;\s*$/ || $prev =~ /^static\b/;
		$owner{$name} //= module($f);
	}
}
for my $f (grep { /\.c$/ } @files)
{
	my $m = module($f);
	my %seen;
	for my $word ($text{$f} =~ /\b([A-Za-z_]\w*)\b/g)
	{
		next if $seen{$word}++;
		my $o = $owner{$word};
		$uses{$m}{$o} = 1 if defined $o && $o ne $m;
	}
}

# Tarjan's strongly connected components
sub cycles
{
	my ($graph) = @_;
	my (%index, %low, %on, @stack, @found);
	my $n = 0;
	my $strong;
	$strong = sub {
		my ($v) = @_;
		$index{$v} = $low{$v} = $n++;
		push @stack, $v;
		$on{$v} = 1;
		for my $w (sort keys %{ $graph->{$v} || {} })
		{
			if (!exists $index{$w})
			{
				$strong->($w);
				$low{$v} = $low{$w} if $low{$w} < $low{$v};
			}
			elsif ($on{$w})
			{
				$low{$v} = $index{$w} if $index{$w} < $low{$v};
			}
		}
		if ($low{$v} == $index{$v})
		{
			my @comp;
			while (1)
			{
				my $w = pop @stack;
				delete $on{$w};
				push @comp, $w;
				last if $w eq $v;
			}
			push @found, [ sort @comp ] if @comp > 1;
		}
	};
	my %nodes = map { $_ => 1 } keys %$graph, map { keys %$_ } values %$graph;
	for my $v (sort keys %nodes)
	{
		$strong->($v) unless exists $index{$v};
	}
	return @found;
}

my $bad = 0;
for my $c (cycles(\%include))
{
	print "include cycle: @$c\n";
	$bad = 1;
}
for my $c (cycles(\%uses))
{
	print "call cycle: @$c\n";
	$bad = 1;
}
print "no cycles\n" unless $bad;
exit $bad;
