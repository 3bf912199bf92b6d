"""Admin for leads (lead.py) and the records kept beside them (records.py); importing
the modules registers their ModelAdmins."""

from leads.admin.lead import LeadAdmin
from leads.admin.records import AppointmentAdmin, AuditEventAdmin, CampaignCostAdmin, ConsentAdmin

__all__ = ["AppointmentAdmin", "AuditEventAdmin", "CampaignCostAdmin", "ConsentAdmin", "LeadAdmin"]
