/* fleetmigrate--1.10--1.11.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.11'" to load this file. \quit

/*
 * Beyond one server: standbys, failover and many databases (issue 21).  As
 * in the earlier scripts every reference is schema-qualified, operators
 * included.  Each area has a section of its own below.
 */
