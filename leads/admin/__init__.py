"""Admin for leads (lead.py), the records kept beside them (records.py) and the
conversion models (prediction.py); importing the modules registers their ModelAdmins."""

from leads.admin.lead import LeadAdmin
from leads.admin.prediction import ConversionModelAdmin
from leads.admin.records import AppointmentAdmin, AuditEventAdmin, CampaignCostAdmin, ConsentAdmin

__all__ = ["AppointmentAdmin", "AuditEventAdmin", "CampaignCostAdmin", "ConsentAdmin", "ConversionModelAdmin",
           "LeadAdmin"]
